import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { escapeFilterValue, loadLdapSettings, parseSettingsFile, userFilter } from '../../../src/identity/index.js'

const dir = mkdtempSync(join(tmpdir(), 'mapnfs-ldap-'))
const SECRET = 'svc-s3cret!'

function conf(text: string, mode = 0o600): string {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.conf`)
  writeFileSync(p, text)
  chmodSync(p, mode)
  return p
}

const BASE = `# AD example\nLDAP_HOST=ldap.example.org\nLDAP_SVC_USER="cn=svc,dc=example,dc=org"\nLDAP_SVC_PASS=${SECRET}\nLDAP_USER_FQDN=ou=people,dc=example,dc=org\n`

test('RFC 4515 escaping of filter values', () => {
  assert.is(escapeFilterValue('*'), '\\2a')
  assert.is(escapeFilterValue('*)(cn=*'), '\\2a\\29\\28cn=\\2a')
  assert.is(escapeFilterValue('a\\b'), 'a\\5cb')
  assert.is(escapeFilterValue('nul\0x'), 'nul\\00x')
  assert.is(escapeFilterValue('alice'), 'alice')
  assert.is(userFilter('(&(objectClass=User)(cn=%s))', 'x)(uid=*'), '(&(objectClass=User)(cn=x\\29\\28uid=\\2a))')
})

test('defaults: port 389, 120 s, the AD filter and attribute names, no groups', () => {
  const s = loadLdapSettings(conf(BASE), {})!
  assert.is(s.port, 389)
  assert.is(s.tls, 'none')
  assert.is(s.timeoutMs, 120_000)
  assert.is(s.filter, '(&(objectClass=User)(cn=%s))')
  assert.is(s.uidAttr, 'uidNumber')
  assert.is(s.gidAttr, 'gidNumber')
  assert.is(s.groups, 'off')
  assert.is(s.serviceUser, 'cn=svc,dc=example,dc=org')
  assert.is(s.servicePassword, SECRET)
})

test('environment overrides the file; ldaps defaults to port 636', () => {
  const s = loadLdapSettings(conf(BASE), { LDAP_TLS: 'ldaps', LDAP_USER_FILTER: '(&(objectClass=posixAccount)(uid=%s))', LDAP_TIMEOUT: '5' })!
  assert.is(s.tls, 'ldaps')
  assert.is(s.port, 636)
  assert.is(s.timeoutMs, 5000)
  assert.is(s.filter, '(&(objectClass=posixAccount)(uid=%s))')
})

test('no host anywhere: LDAP is not configured', () => {
  assert.is(loadLdapSettings(undefined, {}), null)
})

test('a config file that holds the service password must not be readable by others', () => {
  assert.throws(() => loadLdapSettings(conf(BASE, 0o644), {}), /readable by others: chmod 600/)
})

test('invalid settings are named, and no error carries the service password', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ LDAP_TLS: 'maybe' }, /LDAP_TLS/],
    [{ LDAP_PORT: '0' }, /LDAP_PORT/],
    [{ LDAP_TIMEOUT: '-1' }, /LDAP_TIMEOUT/],
    [{ LDAP_USER_FILTER: '(cn=x)' }, /%s/],
    [{ LDAP_GROUPS: 'all' }, /LDAP_GROUPS/],
    [{ LDAP_UID_ATTR: 'uid Number' }, /LDAP_UID_ATTR/],
    [{ LDAP_CA_CERT: '/nonexistent.pem', LDAP_TLS: 'ldaps' }, /LDAP_CA_CERT/],
    [{ LDAP_CA_CERT: '/etc/hostname' }, /needs LDAP_TLS/],
  ]
  for (const [env, re] of cases) {
    let msg = ''
    try {
      loadLdapSettings(conf(BASE), env)
    } catch (e) {
      msg = (e as Error).message
    }
    assert.match(msg, re)
    assert.not.ok(msg.includes(SECRET))
  }
  assert.throws(() => parseSettingsFile('LDAP_BOGUS=1', 'f'), /unknown setting 'LDAP_BOGUS'/)
  assert.throws(() => loadLdapSettings(conf('LDAP_HOST=h\n'), {}), /service account/)
})

test.run()

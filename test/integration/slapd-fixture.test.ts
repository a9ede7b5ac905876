// The LDAP test server itself, checked with two independent clients (ldap-utils and ldapts): if
// these fail, every LDAP identity test is suspect. Also pins down what the fixture promises: the
// service account can search posixAccounts, users bind with their own password only, userPassword
// is not readable, ldaps:// is trusted with the fixture's CA and refused with any other.
import * as assert from 'uvu/assert'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Client, InvalidCredentialsError, type ClientOptions, type Entry } from 'ldapts'
import { startSlapd, type Slapd } from '../fixtures/slapd.js'
import { makeCa, makeServerCert, type Ca } from '../fixtures/tls.js'
import { tcpAnswers } from '../fixtures/ganesha.js'
import { makeTempDir } from '../fixtures/paths.js'
import { isAlive, run } from '../fixtures/proc.js'
import { fixtureSuite } from '../fixtures/suite.js'

interface Ctx {
  s: Slapd
  ca: Ca
  otherCa: Ca
  aliceDn: string
  bobDn: string
  groupDn: string
  /** svc's password in a 0600 file, for ldapsearch -y. */
  svcPwFile: string
}

const CERT_ERRORS = ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']
const ALICE_PW = 'alice secret: with spaces, and ünïcode'

const s = fixtureSuite<Ctx>('slapd fixture', async (defer) => {
  const tlsDir = makeTempDir('tls', 0o700)
  const ca = await makeCa(tlsDir, 'slapd-fixture')
  const otherCa = await makeCa(tlsDir, 'other')
  const cert = await makeServerCert(tlsDir, ca, { ip: '127.0.0.1' })
  const srv = await startSlapd({ tls: { certPath: cert.certPath, keyPath: cert.keyPath, caPath: ca.certPath } })
  defer(() => srv.stop())
  const aliceDn = await srv.addUser({ uid: 'alice', uidNumber: 1001, gidNumber: 1002, password: ALICE_PW, cn: 'Alice Example' })
  const bobDn = await srv.addUser({ uid: 'bob', uidNumber: 1003, password: 'bob-pw' })
  const groupDn = await srv.addGroup({ cn: 'staff', gidNumber: 1002, memberUids: ['alice', 'bob'] })
  const svcPwFile = join(srv.dir, 'svc.pw')
  writeFileSync(svcPwFile, srv.svcPassword, { mode: 0o600 })
  return { s: srv, ca, otherCa, aliceDn, bobDn, groupDn, svcPwFile }
})

/** Runs FN with a connected ldapts client and always unbinds. */
async function withClient<T>(opts: ClientOptions, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ timeout: 10_000, connectTimeout: 10_000, ...opts })
  try {
    return await fn(c)
  } finally {
    await c.unbind().catch(() => undefined)
  }
}

/** The values of NAME in an ldapts entry as strings ([] when absent: ldapts lists requested attributes it did not get as []). */
function values(e: Entry, name: string): string[] {
  const v = e[name]
  if (v === undefined) return []
  return (Array.isArray(v) ? v : [v]).map((x) => (typeof x === 'string' ? x : x.toString('utf8')))
}

/** The error P rejects with; fails the test when it resolves. */
async function rejection(p: Promise<unknown>, what: string): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  assert.unreachable(`${what} succeeded`)
  return undefined
}

function ldapsearch(s: Slapd, args: string[], env: NodeJS.ProcessEnv = s.toolEnv) {
  return run('/usr/bin/ldapsearch', ['-LLL', '-o', 'ldif-wrap=no', ...args], { env, cwd: s.dir, timeoutMs: 10_000 })
}

s.test('serves ldap:// and ldaps:// on its own ports', async ({ s }) => {
  assert.ok(isAlive(s.pid))
  assert.is(s.url, `ldap://127.0.0.1:${s.port}`)
  assert.is(s.ldapsUrl, `ldaps://127.0.0.1:${s.ldapsPort}`)
  assert.is.not(s.port, s.ldapsPort)
  assert.ok(await tcpAnswers(s.port))
  assert.ok(await tcpAnswers(s.ldapsPort as number))
  assert.is(s.baseDn, 'dc=example,dc=org')
  assert.is(s.adminDn, 'cn=admin,dc=example,dc=org')
  assert.is(s.svcDn, 'cn=svc,ou=people,dc=example,dc=org')
})

s.test('ldapsearch as svc finds alice with her numbers; userPassword stays hidden', async ({ s, aliceDn, svcPwFile }) => {
  const r = await ldapsearch(s, ['-x', '-H', s.url, '-D', s.svcDn, '-y', svcPwFile, '-b', s.peopleDn,
    '(&(objectClass=posixAccount)(uid=alice))', 'uid', 'uidNumber', 'gidNumber', 'homeDirectory', 'userPassword'])
  assert.is(r.code, 0, r.stderr)
  assert.ok(r.stdout.includes(`dn: ${aliceDn}\n`), r.stdout)
  assert.match(r.stdout, /^uidNumber: 1001$/m)
  assert.match(r.stdout, /^gidNumber: 1002$/m)
  assert.match(r.stdout, /^homeDirectory: \/home\/alice$/m)
  assert.not.match(r.stdout, /userPassword/i)
})

s.test('ldapsearch anonymously over ldaps:// with the fixture CA; refused with another CA', async ({ s, otherCa, groupDn }) => {
  const ok = await ldapsearch(s, ['-x', '-H', s.ldapsUrl as string, '-b', s.groupsDn, '(cn=staff)', 'gidNumber', 'memberUid'])
  assert.is(ok.code, 0, ok.stderr)
  assert.ok(ok.stdout.includes(`dn: ${groupDn}\n`), ok.stdout)
  assert.match(ok.stdout, /^gidNumber: 1002$/m)
  assert.match(ok.stdout, /^memberUid: alice$/m)
  assert.match(ok.stdout, /^memberUid: bob$/m)
  const bad = await ldapsearch(s, ['-x', '-H', s.ldapsUrl as string, '-b', s.groupsDn, '(cn=staff)'],
    { ...s.toolEnv, LDAPTLS_CACERT: otherCa.certPath })
  assert.is.not(bad.code, 0, `ldaps with a foreign CA was accepted: ${bad.stdout}`)
  // libldap reports a failed handshake like an unreachable server; the same URL just worked with the fixture CA.
  assert.match(bad.stderr, /Can't contact LDAP server/, bad.stderr)
})

s.test('ldapts: svc binds and searches posixAccounts under ou=people', async ({ s, aliceDn }) => {
  await withClient({ url: s.url }, async (c) => {
    await c.bind(s.svcDn, s.svcPassword)
    const { searchEntries } = await c.search(s.peopleDn, {
      scope: 'sub',
      filter: '(&(objectClass=posixAccount)(uid=alice))',
      attributes: ['uid', 'uidNumber', 'gidNumber', 'userPassword'],
    })
    assert.is(searchEntries.length, 1)
    const e = searchEntries[0]!
    assert.is(e.dn, aliceDn)
    assert.is(e.uidNumber, '1001')
    assert.is(e.gidNumber, '1002')
    assert.equal(values(e, 'userPassword'), [], 'svc must not read userPassword')
  })
})

s.test('ldapts: a user binds with the right password only', async ({ s, aliceDn }) => {
  await withClient({ url: s.url }, async (c) => {
    await c.bind(aliceDn, ALICE_PW)
    // `by self read`: her own (hashed) password is the one userPassword she can see.
    const { searchEntries } = await c.search(aliceDn, { scope: 'base', attributes: ['userPassword'] })
    assert.match(values(searchEntries[0]!, 'userPassword').join(), /^\{SSHA\}/)
  })
  await withClient({ url: s.url }, async (c) => {
    assert.instance(await rejection(c.bind(aliceDn, 'wrong password'), 'bind with a wrong password'), InvalidCredentialsError)
  })
  // The admin password is not a user password either.
  await withClient({ url: s.url }, async (c) => {
    assert.instance(await rejection(c.bind(aliceDn, s.adminPassword), 'bind as alice with the admin password'), InvalidCredentialsError)
  })
})

s.test('a user without gidNumber is an extensibleObject, not a posixAccount', async ({ s, bobDn }) => {
  await withClient({ url: s.url }, async (c) => {
    await c.bind(s.svcDn, s.svcPassword)
    const posix = await c.search(s.peopleDn, { filter: '(&(objectClass=posixAccount)(uid=bob))' })
    assert.is(posix.searchEntries.length, 0)
    const { searchEntries } = await c.search(s.peopleDn, { filter: '(uid=bob)', attributes: ['uidNumber', 'gidNumber', 'objectClass'] })
    assert.is(searchEntries.length, 1)
    const e = searchEntries[0]!
    assert.is(e.dn, bobDn)
    assert.is(e.uidNumber, '1003')
    assert.equal(values(e, 'gidNumber'), [])
    assert.ok(values(e, 'objectClass').includes('extensibleObject'), String(e.objectClass))
  })
  await withClient({ url: s.url }, async (c) => {
    await c.bind(bobDn, 'bob-pw')
  })
})

s.test('ldapts over ldaps:// trusts the fixture CA', async ({ s, ca, aliceDn }) => {
  await withClient({ url: s.ldapsUrl as string, tlsOptions: { ca: [ca.pem] } }, async (c) => {
    await c.bind(s.svcDn, s.svcPassword)
    const { searchEntries } = await c.search(s.peopleDn, { filter: '(&(objectClass=posixAccount)(uid=alice))', attributes: ['uidNumber'] })
    assert.is(searchEntries.length, 1)
    assert.is(searchEntries[0]!.dn, aliceDn)
    assert.is(searchEntries[0]!.uidNumber, '1001')
  })
})

s.test('ldapts over ldaps:// refuses the server with another CA', async ({ s, otherCa }) => {
  await withClient({ url: s.ldapsUrl as string, tlsOptions: { ca: [otherCa.pem] } }, async (c) => {
    const e = (await rejection(c.bind(s.svcDn, s.svcPassword), 'ldaps bind with a foreign CA')) as NodeJS.ErrnoException
    // slapd sends its certificate and the CA's (SELF_SIGNED_CERT_IN_CHAIN); with the leaf alone it
    // would be UNABLE_TO_VERIFY_LEAF_SIGNATURE. Either way a verification failure, not a network one.
    assert.ok(CERT_ERRORS.includes(e.code ?? ''), `expected a certificate verification error, got ${e.code}: ${e.message}`)
  })
})

s.test('stop() ends the server and it no longer answers', async ({ s }) => {
  await s.stop()
  assert.not.ok(isAlive(s.pid), `slapd pid ${s.pid} still alive`)
  assert.not.ok(await tcpAnswers(s.port), 'ldap port still answers')
  assert.not.ok(await tcpAnswers(s.ldapsPort as number), 'ldaps port still answers')
  await s.stop() // idempotent: the after hook calls it again
})

s.run()

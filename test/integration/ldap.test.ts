// LDAP identities against a real slapd (plain, StartTLS and ldaps with a throwaway CA) and a real
// nfs-ganesha: username + password resolve to uid/gid, files land on the export with them, and
// every failure is one clear line with the contract's text. No output of any run may contain a
// password.
import * as assert from 'uvu/assert'
import * as net from 'node:net'
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint, makeTempDir } from '../fixtures/paths.js'
import { mountCli, requireCli, runCli, shAs, statAs, type CliResult } from '../fixtures/mount.js'
import { assertCleanFailure, owner } from '../fixtures/expect.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { startSlapd, type Slapd } from '../fixtures/slapd.js'
import { makeCa, makeServerCert, type Ca } from '../fixtures/tls.js'
import { LdapError, loadLdapSettings, resolveLdapIdentity } from '../../src/identity/index.js'

const APP = 2000
const PASSWORDS = {
  alice: 'Alice pw: 5ecret-ÄÖ',
  bob: 'bob-only-uid-2x',
  twin: 'twin-pass-77',
  root0: 'zero-is-root-99',
}

interface Ctx {
  g: Ganesha
  exp: string
  ldap: Slapd
  ca: Ca
  otherCa: Ca
  secrets: string
  outputs: string[]
}

const s = fixtureSuite<Ctx>('LDAP identities (slapd + ganesha)', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const tlsDir = makeTempDir('ldap-tls')
  const ca = await makeCa(tlsDir, 'right')
  const otherCa = await makeCa(tlsDir, 'wrong')
  const cert = await makeServerCert(tlsDir, ca, { ip: '127.0.0.1' })
  const ldap = await startSlapd({ tls: { certPath: cert.certPath, keyPath: cert.keyPath, caPath: ca.certPath } })
  defer(() => ldap.stop())
  await ldap.addUser({ uid: 'alice', uidNumber: 5001, gidNumber: 5002, password: PASSWORDS.alice })
  await ldap.addUser({ uid: 'bob', uidNumber: 5003, password: PASSWORDS.bob }) // no gidNumber
  await ldap.addUser({ uid: 'twin', uidNumber: 5004, gidNumber: 5004, password: PASSWORDS.twin, ou: 'east' })
  await ldap.addUser({ uid: 'twin', uidNumber: 5005, gidNumber: 5005, password: PASSWORDS.twin, ou: 'west' })
  await ldap.addUser({ uid: 'root0', uidNumber: 0, gidNumber: 0, password: PASSWORDS.root0 })
  await ldap.addGroup({ cn: 'devs', gidNumber: 6001, memberUids: ['alice'] })
  // Password files readable by root only, like a secret mounted into the container.
  const secrets = makeTempDir('ldap-secrets', 0o700)
  for (const [name, pw] of Object.entries(PASSWORDS)) writeFileSync(join(secrets, name), pw + '\n', { mode: 0o600 })
  writeFileSync(join(secrets, 'wrong'), 'not-the-password\n', { mode: 0o600 })
  return { g, exp, ldap, ca, otherCa, secrets, outputs: [] }
})

/** Operator settings as environment (never argv): an OpenLDAP posixAccount-style directory. */
function ldapEnv(c: Ctx, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    LDAP_HOST: '127.0.0.1',
    LDAP_PORT: String(c.ldap.port),
    LDAP_SVC_USER: c.ldap.svcDn,
    LDAP_SVC_PASS: c.ldap.svcPassword,
    LDAP_USER_FQDN: c.ldap.baseDn,
    LDAP_USER_FILTER: '(&(objectClass=inetOrgPerson)(uid=%s))',
    LDAP_TIMEOUT: '10',
    ...extra,
  }
}

function mountArgs(c: Ctx, user: string, passwordFile: string, mnt: string): string[] {
  return ['mount', nfsSource(c.exp), mnt, '-o', `username=${user},password-file=${passwordFile},${portOptions(c.g)}`]
}

async function failing(c: Ctx, user: string, passwordFile: string, env: NodeJS.ProcessEnv, expect: string | RegExp, input?: string): Promise<CliResult> {
  const mnt = makeMountpoint()
  const r = await runCli(mountArgs(c, user, passwordFile, mnt), { env, ...(input !== undefined ? { input } : {}), timeoutMs: 60_000 })
  c.outputs.push(r.stdout, r.stderr)
  assertCleanFailure(r, mnt, expect)
  return r
}

/**
 * Mounts as USER (LDAP settings from ENV, extra -o options in EXTRA), runs FN with the mount point,
 * then unmounts, records the CLI's output and checks it exited 0.
 */
async function withLdapMount(c: Ctx, user: string, env: NodeJS.ProcessEnv, fn: (mnt: string) => Promise<void>, extra = ''): Promise<void> {
  const mnt = makeMountpoint()
  const m = await mountCli(nfsSource(c.exp), mnt, ['-o', `username=${user},password-file=${join(c.secrets, user)},${portOptions(c.g)}${extra}`], env)
  try {
    await fn(mnt)
  } finally {
    const u = await m.unmount()
    c.outputs.push(m.stdout(), u.stderr)
    assert.is(u.code, 0, u.stderr)
  }
}

s.test('a directory user resolves: files land on the export as 5001:5002 and show as the app\'s own', async (c) => {
  await withLdapMount(c, 'alice', ldapEnv(c), async (mnt) => {
    await shAs(APP, APP, `printf hi > ${mnt}/alice.txt`)
    assert.is(owner(join(c.exp, 'alice.txt')), '5001:5002')
    assert.is(await statAs(APP, APP, join(mnt, 'alice.txt'), '%u:%g'), '2000:2000')
  })
})

s.test('missing gidNumber: gid falls back to the uid', async (c) => {
  await withLdapMount(c, 'bob', ldapEnv(c), async (mnt) => {
    await shAs(APP, APP, `printf b > ${mnt}/bob.txt`)
    assert.is(owner(join(c.exp, 'bob.txt')), '5003:5003')
  })
})

s.test('wrong password (file and stdin): refused, nothing mounted', async (c) => {
  await failing(c, 'alice', join(c.secrets, 'wrong'), ldapEnv(c), 'LDAP authentication failed')
  await failing(c, 'alice', '-', ldapEnv(c), 'LDAP authentication failed', 'still-not-the-password\n')
})

s.test('unknown user: User does not exist', async (c) => {
  await failing(c, 'mallory', join(c.secrets, 'alice'), ldapEnv(c), 'User does not exist')
})

s.test('two matching entries: Ambiguous search--too many results', async (c) => {
  await failing(c, 'twin', join(c.secrets, 'twin'), ldapEnv(c), 'Ambiguous search--too many results')
})

s.test('uidNumber 0 in the directory is refused like uid=0', async (c) => {
  await failing(c, 'root0', join(c.secrets, 'root0'), ldapEnv(c), "Invalid 'uid' option (0, negative, or non-integer)")
})

s.test('filter injection finds nothing: *, *)(uid=*, \\, alice)(uid=*', async (c) => {
  for (const name of ['*', '*)(uid=*', '\\', 'alice)(uid=*', 'al*']) {
    await failing(c, name, join(c.secrets, 'alice'), ldapEnv(c), 'User does not exist')
  }
})

s.test('unreachable server: a closed port fails fast, a silent one within LDAP_TIMEOUT', async (c) => {
  const closed = net.createServer()
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()))
  const closedPort = (closed.address() as net.AddressInfo).port
  await new Promise<void>((r) => closed.close(() => r()))
  let t0 = Date.now()
  await failing(c, 'alice', join(c.secrets, 'alice'), ldapEnv(c, { LDAP_PORT: String(closedPort) }), 'LDAP server could not be reached, please contact your system administrator')
  assert.ok(Date.now() - t0 < 10_000)
  // Accepts TCP and never answers: only the timeout can end the wait.
  const silent = net.createServer(() => undefined)
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()))
  try {
    t0 = Date.now()
    await failing(c, 'alice', join(c.secrets, 'alice'), ldapEnv(c, { LDAP_PORT: String((silent.address() as net.AddressInfo).port), LDAP_TIMEOUT: '2' }), 'LDAP server could not be reached')
    const took = Date.now() - t0
    assert.ok(took >= 1500 && took < 15_000, `took ${took} ms`)
  } finally {
    silent.close()
  }
})

s.test('ldaps with the right CA mounts; with another CA it is refused (no fallback to plain)', async (c) => {
  const tls = (caPath: string): Record<string, string> => ({ LDAP_TLS: 'ldaps', LDAP_PORT: String(c.ldap.ldapsPort), LDAP_CA_CERT: caPath })
  await withLdapMount(c, 'alice', ldapEnv(c, tls(c.ca.certPath)), async () => undefined)
  await failing(c, 'alice', join(c.secrets, 'alice'), ldapEnv(c, tls(c.otherCa.certPath)), /LDAP server certificate was not accepted/)
})

s.test('StartTLS with the right CA mounts; with another CA it is refused', async (c) => {
  const tls = (caPath: string): Record<string, string> => ({ LDAP_TLS: 'starttls', LDAP_CA_CERT: caPath })
  await withLdapMount(c, 'alice', ldapEnv(c, tls(c.ca.certPath)), async () => undefined)
  await failing(c, 'alice', join(c.secrets, 'alice'), ldapEnv(c, tls(c.otherCa.certPath)), /LDAP server certificate was not accepted/)
})

s.test('settings from a 0600 config file; a world-readable one holding the password is refused', async (c) => {
  const dir = makeTempDir('ldap-conf', 0o700)
  const env = ldapEnv(c)
  const text = Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n'
  const good = join(dir, 'ldap.conf')
  writeFileSync(good, text, { mode: 0o600 })
  await withLdapMount(c, 'alice', {}, async () => undefined, `,ldap-config=${good}`)
  const loose = join(dir, 'loose.conf')
  writeFileSync(loose, text)
  chmodSync(loose, 0o644)
  const mnt2 = makeMountpoint()
  const r = await runCli(['mount', nfsSource(c.exp), mnt2, '-o', `username=alice,password-file=${join(c.secrets, 'alice')},ldap-config=${loose},${portOptions(c.g)}`])
  c.outputs.push(r.stdout, r.stderr)
  assertCleanFailure(r, mnt2, /readable by others: chmod 600/)
})

s.test('username without LDAP settings, or with uid/gid, or with password= on argv', async (c) => {
  await failing(c, 'alice', join(c.secrets, 'alice'), {}, 'LDAP username is specified but LDAP is not configured')
  const mnt = makeMountpoint()
  const r1 = await runCli(['mount', nfsSource(c.exp), mnt, '-o', `username=alice,password-file=/x,uid=5,gid=5,${portOptions(c.g)}`], { env: ldapEnv(c) })
  assertCleanFailure(r1, mnt, 'Not allowed options: uid, gid')
  const r2 = await runCli(['mount', nfsSource(c.exp), mnt, '-o', `username=alice,password=${PASSWORDS.alice},${portOptions(c.g)}`], { env: ldapEnv(c) })
  assertCleanFailure(r2, mnt, /must not be given on the command line/)
  c.outputs.push(r1.stdout, r1.stderr, r2.stdout, r2.stderr)
})

s.test('LDAP_GROUPS=posixGroup sends the user\'s groups: a group-writable directory accepts the file (unless perm is forced)', async (c) => {
  const shared = join(c.exp, 'devs-only')
  mkdirSync(shared)
  chownSync(shared, 0, 6001)
  chmodSync(shared, 0o2770)
  // Such groups exist only on the server, so by default only the server judges them (noperm);
  // forcing the kernel's checks (perm) refuses what the local process is no member of.
  for (const [groups, extra, expectOk] of [['off', '', false], ['posixGroup', '', true], ['posixGroup', ',perm', false]] as const) {
    await withLdapMount(c, 'alice', ldapEnv(c, { LDAP_GROUPS: groups, LDAP_GROUP_BASE: c.ldap.groupsDn }), async (mnt) => {
      const ok = await shAs(APP, APP, `printf g > ${mnt}/devs-only/${groups}${extra.replace(',', '-')}.txt && echo ok || echo denied`)
      assert.is(ok.trim(), expectOk ? 'ok' : 'denied', `LDAP_GROUPS=${groups}${extra}`)
    }, extra)
  }
  assert.is(readFileSync(join(shared, 'posixGroup.txt'), 'utf8'), 'g')
})

// A NUL cannot travel in argv, so it is fed to the resolver directly, against the same slapd.
s.test('a username with NUL (or any filter metacharacter) cannot widen the search', async (c) => {
  const settings = loadLdapSettings(undefined, ldapEnv(c))!
  for (const name of ['alice\0', 'alice\0)(uid=*', '*\0']) {
    const err = await resolveLdapIdentity(settings, name, PASSWORDS.alice).catch((e: unknown) => e)
    assert.instance(err, LdapError)
    assert.is((err as Error).message, 'User does not exist')
  }
  assert.equal(await resolveLdapIdentity(settings, 'alice', PASSWORDS.alice), { uid: 5001, gid: 5002 })
})

// Runs last: everything the CLI printed in this file, successes and failures alike.
s.test('no output of any run contains a password (users\' or the service account\'s)', async (c) => {
  const all = c.outputs.join('\n')
  assert.ok(c.outputs.length >= 20, `only ${c.outputs.length} outputs collected`)
  for (const pw of [...Object.values(PASSWORDS), c.ldap.svcPassword, 'still-not-the-password', 'not-the-password']) {
    assert.not.ok(all.includes(pw), 'a password appeared in the CLI output')
  }
})

s.run()

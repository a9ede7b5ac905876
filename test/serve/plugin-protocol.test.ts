// `mapnfs serve` spoken to as dockerd speaks to it: HTTP+JSON on its unix socket, with a plain
// http client, against a real nfs-ganesha (and a real slapd for an LDAP volume). Covers the
// protocol's calls, reference counting by caller ID, every way a request can be wrong (each a
// clear Err, the daemon unharmed), the state file, a restart that mounts again what was held, and
// the logs (JSON lines, volume/op/errno, never a password).
import * as assert from 'uvu/assert'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsUrl, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeTempDir } from '../fixtures/paths.js'
import { mountCount, shAs, statAs } from '../fixtures/mount.js'
import { isMounted } from '../fixtures/proc.js'
import { owner } from '../fixtures/expect.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { startSlapd, type Slapd } from '../fixtures/slapd.js'
import { startServe, type ServeDaemon } from '../fixtures/serve.js'

const ALICE_PW = 'alice-Pw-7f3k-ß'
const OPTS_PW = 'pw-in-opts-9q2z'

interface Ctx {
  g: Ganesha
  exp: string
  ldap: Slapd
  secrets: string
  d: ServeDaemon
  env: NodeJS.ProcessEnv
}

const s = fixtureSuite<Ctx>('mapnfs serve: Docker volume plugin protocol', async (defer) => {
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const ldap = await startSlapd()
  defer(() => ldap.stop())
  await ldap.addUser({ uid: 'alice', uidNumber: 5001, gidNumber: 5002, password: ALICE_PW })
  const secrets = makeTempDir('serve-secrets', 0o700)
  writeFileSync(join(secrets, 'alice'), ALICE_PW + '\n', { mode: 0o600 })
  writeFileSync(join(secrets, 'wrong'), 'not-alice-pw-x1\n', { mode: 0o600 })
  const env = {
    LDAP_HOST: '127.0.0.1',
    LDAP_PORT: String(ldap.port),
    LDAP_SVC_USER: ldap.svcDn,
    LDAP_SVC_PASS: ldap.svcPassword,
    LDAP_USER_FQDN: ldap.baseDn,
    LDAP_USER_FILTER: '(&(objectClass=inetOrgPerson)(uid=%s))',
    LDAP_TIMEOUT: '10',
  }
  const ctx: Ctx = { g, exp, ldap, secrets, env, d: await startServe({ env, args: ['--log-level', 'debug'] }) }
  // ctx.d, not the first daemon: the restart test replaces it.
  defer(async () => {
    const r = await ctx.d.stop()
    if (r.code !== 0) throw new Error(`mapnfs serve exited ${r.code}: ${r.stderr}`)
  })
  return ctx
})

const source = (c: Ctx): string => nfsUrl(c.g, c.exp)

async function ok(d: ServeDaemon, path: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await d.call(path, body)
  assert.is(r.status, 200, `${path} ${JSON.stringify(body)}: HTTP ${r.status}`)
  assert.is(r.body.Err, '', `${path} ${JSON.stringify(body)}: Err ${String(r.body.Err)}`)
  return r.body
}

async function refused(d: ServeDaemon, path: string, body: unknown): Promise<string> {
  const r = await d.call(path, body)
  assert.is(r.status, 200, `${path}: HTTP ${r.status}`)
  assert.type(r.body.Err, 'string')
  assert.ok((r.body.Err as string).length > 0, `${path} ${JSON.stringify(body)} should be refused`)
  return r.body.Err as string
}

s.test('Activate, Capabilities, and a socket only root can use', async ({ d }) => {
  assert.equal((await d.call('/Plugin.Activate')).body, { Implements: ['VolumeDriver'] })
  assert.equal((await d.call('/VolumeDriver.Capabilities', {})).body, { Capabilities: { Scope: 'local' } })
  assert.is(statSync(d.dirs.socket).mode & 0o777, 0o600)
  assert.ok(statSync(d.dirs.socket).isSocket())
  assert.equal(await ok(d, '/VolumeDriver.List', {}), { Volumes: [], Err: '' })
})

s.test('Create with invalid options: the CLI\'s texts in Err, nothing created', async (c) => {
  const { d } = c
  const cases: [Record<string, unknown>, string][] = [
    [{ source: source(c), uid: '0', gid: '1234' }, "Invalid 'uid' option (0, negative, or non-integer)"],
    [{ source: source(c), uid: '1234' }, "required 'gid' option is missing"],
    [{ source: source(c), username: 'alice', 'password-file': '/x', uid: '5', gid: '5' }, 'Not allowed options: uid, gid'],
    [{ source: source(c), username: 'alice' }, 'LDAP username is specified but LDAP password is missing'],
    [{ source: source(c), uid: '1234', gid: '1234', cache: 'maybe' }, "Invalid 'cache' option"],
    [{ source: source(c), version: '4' }, 'NFSv4 is not supported by this client (use version=3)'],
    [{ source: source(c), version: '3.1' }, 'NFSv3 does not use minor versions'],
    [{ source: 'nfs:///nohost' }, "Invalid 'share' option: 'nfs:///nohost' (expected nfs://host[:port]/export or host:/export)"],
    [{ uid: '1234', gid: '1234' }, 'Missing mandatory options: source'],
    [{ source: source(c), frobnicate: 'yes' }, "unknown option 'frobnicate'"],
    [{ source: source(c), 'password-file': '-', username: 'alice' }, "'password-file=-' (stdin) is not possible for a volume; give a file"],
    [{ source: source(c), 'password-file': 'relative/pw', username: 'alice' }, "'password-file' must be an absolute path"],
    [{ source: source(c), mount: '/somewhere' }, "option 'mount' is not a volume option: the daemon decides where a volume is mounted and tells the orchestrator"],
    [{ source: source(c), uid: 1234, gid: 1234 }, "Invalid 'uid' option (expected a string value)"],
  ]
  for (const [opts, text] of cases) assert.is(await refused(d, '/VolumeDriver.Create', { Name: 'bad', Opts: opts }), text, JSON.stringify(opts))
  const pw = await refused(d, '/VolumeDriver.Create', { Name: 'bad', Opts: { source: source(c), username: 'alice', password: OPTS_PW } })
  assert.match(pw, /^a password must not be given as a volume option \(docker volume inspect shows it\)/)
  for (const name of ['../etc', '', '-x', 'a/b', 'x'.repeat(256)]) {
    assert.match(await refused(d, '/VolumeDriver.Create', { Name: name, Opts: { source: source(c), uid: '1234', gid: '1234' } }), /^invalid volume name/)
  }
  assert.match(await refused(d, '/VolumeDriver.Create', { Name: 'bad', Opts: ['source'] }), /^Opts must be an object/)
  assert.equal((await ok(d, '/VolumeDriver.List', {})).Volumes, [])
})

s.test('requests that are not the protocol: 4xx with an Err, and the daemon keeps serving', async ({ d }) => {
  const bad = await d.call('/VolumeDriver.Create', '{"Name": "x", "Opts": {')
  assert.is(bad.status, 400)
  assert.match(bad.body.Err as string, /^request body is not valid JSON/)
  const arr = await d.call('/VolumeDriver.Mount', '[1,2]')
  assert.is(arr.status, 400)
  assert.is(arr.body.Err, 'request body must be a JSON object')
  const unknown = await d.call('/VolumeDriver.Frobnicate', {})
  assert.is(unknown.status, 404)
  assert.match(unknown.body.Err as string, /^unknown endpoint "\/VolumeDriver.Frobnicate"/)
  const get = await d.call('/VolumeDriver.List', undefined, 'GET')
  assert.is(get.status, 405)
  const huge = await d.call('/VolumeDriver.Create', JSON.stringify({ Name: 'x', Opts: { source: 'x'.repeat(100_000) } }))
  assert.is(huge.status, 413)
  assert.equal((await d.call('/Plugin.Activate')).body, { Implements: ['VolumeDriver'] })
})

s.test('unknown volumes: a clear Err from every call that names one', async ({ d }) => {
  for (const call of ['Remove', 'Mount', 'Unmount', 'Path', 'Get']) {
    assert.is(await refused(d, `/VolumeDriver.${call}`, { Name: 'nope', ID: 'c1' }), 'no such volume: nope', call)
  }
  assert.is(await refused(d, '/VolumeDriver.Mount', { ID: 'c1' }), 'the request names no volume (Name)')
  assert.is(await refused(d, '/VolumeDriver.Get', { Name: 42 }), 'the request names no volume (Name)')
  // What a caller sends comes back quoted and cut short, never as a second log line.
  assert.is(await refused(d, '/VolumeDriver.Path', { Name: 'x\n{"level":"error"}' }), 'no such volume: "x\\n{\\"level\\":\\"error\\"}"')
  assert.is(await refused(d, '/VolumeDriver.Path', { Name: 'y'.repeat(5000) }), `no such volume: "${'y'.repeat(64)}"...`)
})

s.test('Mount/Unmount are counted by caller ID; the FUSE mount lives while one ID holds it', async (c) => {
  const { d, exp } = c
  await ok(d, '/VolumeDriver.Create', { Name: 'v1', Opts: { source: source(c), uid: '1234', gid: '1234' } })
  // The same Create again is accepted; other options for the same name are not.
  await ok(d, '/VolumeDriver.Create', { Name: 'v1', Opts: { source: source(c), uid: '1234', gid: '1234' } })
  assert.is(await refused(d, '/VolumeDriver.Create', { Name: 'v1', Opts: { source: source(c), uid: '1235', gid: '1235' } }), 'volume v1 already exists with other options (remove it first)')
  const mp = join(d.dirs.mountRoot, 'v1')
  assert.equal(await ok(d, '/VolumeDriver.Path', { Name: 'v1' }), { Mountpoint: '', Err: '' })
  assert.is(((await ok(d, '/VolumeDriver.Get', { Name: 'v1' })).Volume as { Mountpoint: string }).Mountpoint, '')

  assert.equal(await ok(d, '/VolumeDriver.Mount', { Name: 'v1', ID: 'A' }), { Mountpoint: mp, Err: '' })
  assert.ok(isMounted(mp))
  await shAs(2000, 2000, `umask 022; printf one > ${mp}/from-v1.txt`)
  assert.is(owner(join(exp, 'from-v1.txt')), '1234:1234')
  assert.is(await statAs(2000, 2000, join(mp, 'from-v1.txt')), '2000:2000')

  // A second Mount with the same ID is not a second reference.
  assert.equal(await ok(d, '/VolumeDriver.Mount', { Name: 'v1', ID: 'A' }), { Mountpoint: mp, Err: '' })
  await ok(d, '/VolumeDriver.Mount', { Name: 'v1', ID: 'B' })
  assert.is(mountCount(mp), 1)
  const got = (await ok(d, '/VolumeDriver.Get', { Name: 'v1' })).Volume as { Name: string; Mountpoint: string; Status: { references: number; mounted: boolean } }
  assert.is(got.Name, 'v1')
  assert.is(got.Mountpoint, mp)
  assert.equal(got.Status, { mounted: true, references: 2 })
  assert.equal(await ok(d, '/VolumeDriver.Path', { Name: 'v1' }), { Mountpoint: mp, Err: '' })

  assert.is(await refused(d, '/VolumeDriver.Unmount', { Name: 'v1', ID: 'C' }), 'volume v1 is not mounted for ID C')
  assert.is(await refused(d, '/VolumeDriver.Mount', { Name: 'v1', ID: '' }), 'ID must be a non-empty string (the caller that mounts)')
  await ok(d, '/VolumeDriver.Unmount', { Name: 'v1', ID: 'A' })
  assert.ok(isMounted(mp), 'B still holds it')
  assert.is(await refused(d, '/VolumeDriver.Unmount', { Name: 'v1', ID: 'A' }), 'volume v1 is not mounted for ID A')
  assert.is(await refused(d, '/VolumeDriver.Remove', { Name: 'v1' }), 'volume v1 is in use (mounted for 1 caller(s)); unmount it first')
  await ok(d, '/VolumeDriver.Unmount', { Name: 'v1', ID: 'B' })
  assert.not.ok(isMounted(mp), 'the last Unmount unmounts')
  assert.equal(await ok(d, '/VolumeDriver.Path', { Name: 'v1' }), { Mountpoint: '', Err: '' })
  const createdAt = ((await ok(d, '/VolumeDriver.Get', { Name: 'v1' })).Volume as { CreatedAt: string }).CreatedAt
  assert.ok(Date.parse(createdAt) > Date.now() - 600_000, `CreatedAt ${createdAt}`)
  assert.equal((await ok(d, '/VolumeDriver.List', {})).Volumes, [{ Name: 'v1', Mountpoint: '', CreatedAt: createdAt, Status: { mounted: false, references: 0 } }])
  await ok(d, '/VolumeDriver.Remove', { Name: 'v1' })
  assert.equal((await ok(d, '/VolumeDriver.List', {})).Volumes, [])
  // The data stays on the server: removing a volume forgets it, it does not delete the share.
  assert.is(readFileSync(join(exp, 'from-v1.txt'), 'utf8'), 'one')
})

s.test('concurrent Mount calls for one volume make one FUSE mount; concurrent Unmounts undo it', async (c) => {
  const { d } = c
  await ok(d, '/VolumeDriver.Create', { Name: 'busy', Opts: { source: source(c), uid: '1234', gid: '1234' } })
  const mp = join(d.dirs.mountRoot, 'busy')
  const ids = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']
  const replies = await Promise.all(ids.map((id) => d.call('/VolumeDriver.Mount', { Name: 'busy', ID: id })))
  for (const r of replies) assert.equal(r.body, { Mountpoint: mp, Err: '' })
  assert.is(mountCount(mp), 1)
  assert.equal(((await ok(d, '/VolumeDriver.Get', { Name: 'busy' })).Volume as { Status: unknown }).Status, { mounted: true, references: 6 })
  const gone = await Promise.all(ids.map((id) => d.call('/VolumeDriver.Unmount', { Name: 'busy', ID: id })))
  for (const r of gone) assert.is(r.body.Err, '')
  assert.is(mountCount(mp), 0)
  await ok(d, '/VolumeDriver.Remove', { Name: 'busy' })
})

s.test('a Mount that cannot mount answers the CLI\'s error and records nothing', async (c) => {
  const { d, exp } = c
  await ok(d, '/VolumeDriver.Create', { Name: 'wrongport', Opts: { source: `nfs://127.0.0.1:1${exp}?mountport=1`, uid: '1234', gid: '1234', timeo: '5', retrans: '0' } })
  const err = await refused(d, '/VolumeDriver.Mount', { Name: 'wrongport', ID: 'x' })
  // The line `mapnfs mount` prints for the same source.
  assert.is(err, 'cannot connect to 127.0.0.1:1: ECONNREFUSED')
  assert.equal(((await ok(d, '/VolumeDriver.Get', { Name: 'wrongport' })).Volume as { Status: unknown }).Status, { mounted: false, references: 0 })
  await ok(d, '/VolumeDriver.Remove', { Name: 'wrongport' })
})

s.test('LDAP volume: password-file works, a wrong one is refused, no password anywhere', async (c) => {
  const { d, exp, secrets } = c
  await ok(d, '/VolumeDriver.Create', { Name: 'alice', Opts: { source: source(c), username: 'alice', 'password-file': join(secrets, 'alice') } })
  const mp = (await ok(d, '/VolumeDriver.Mount', { Name: 'alice', ID: 'a1' })).Mountpoint as string
  await shAs(2000, 2000, `umask 022; printf x > ${mp}/alice.txt`)
  assert.is(owner(join(exp, 'alice.txt')), '5001:5002')
  await ok(d, '/VolumeDriver.Unmount', { Name: 'alice', ID: 'a1' })
  await ok(d, '/VolumeDriver.Create', { Name: 'notalice', Opts: { source: source(c), username: 'alice', 'password-file': join(secrets, 'wrong') } })
  const err = await refused(d, '/VolumeDriver.Mount', { Name: 'notalice', ID: 'n1' })
  assert.not.match(err, /not-alice-pw/)
  assert.ok(err.length > 0)
  const state = readFileSync(d.dirs.state, 'utf8')
  assert.ok(state.includes(join(secrets, 'alice')), 'the state holds the password file path')
  for (const secret of [ALICE_PW, 'not-alice-pw-x1', OPTS_PW, c.ldap.svcPassword]) {
    assert.not.ok(state.includes(secret), 'no password in the state file')
    assert.not.ok(d.stdout().includes(secret), 'no password in the log')
    assert.not.ok(d.stderr().includes(secret), 'no password on stderr')
  }
  await ok(d, '/VolumeDriver.Remove', { Name: 'alice' })
  await ok(d, '/VolumeDriver.Remove', { Name: 'notalice' })
})

s.test('logs: JSON lines with volume, event, op and errno', async (c) => {
  const { d } = c
  await ok(d, '/VolumeDriver.Create', { Name: 'logged', Opts: { source: source(c), uid: '1234', gid: '1234' } })
  const mp = (await ok(d, '/VolumeDriver.Mount', { Name: 'logged', ID: 'l1' })).Mountpoint as string
  const r = await shAs(2000, 2000, `cat ${mp}/no-such-file 2>&1 || true`)
  assert.match(r, /No such file/)
  // The kernel front end meets a missing name at LOOKUP (libfuse 2 at its GETATTR by path).
  await d.waitFor(/"op":"(lookup|getattr|open)".*"errno":"ENOENT"|"errno":"ENOENT".*"op":"(lookup|getattr|open)"/)
  await ok(d, '/VolumeDriver.Unmount', { Name: 'logged', ID: 'l1' })
  await d.waitFor(/"event":"unmount"/)
  const recs = d.records()
  const mine = recs.filter((rec) => rec.volume === 'logged')
  const events = mine.map((rec) => rec.event)
  for (const e of ['create', 'mount', 'mount-ref', 'op-error', 'unmount-ref', 'unmount']) assert.ok(events.includes(e), `event ${e} logged: ${JSON.stringify(events)}`)
  const mount = mine.find((rec) => rec.event === 'mount')!
  assert.is(mount.level, 'info')
  assert.is(mount.uid, 1234)
  assert.is(mount.mountpoint, mp)
  const opErr = mine.find((rec) => rec.event === 'op-error')!
  assert.is(opErr.level, 'debug')
  assert.is(opErr.errno, 'ENOENT')
  for (const rec of recs) {
    assert.type(rec.time, 'string')
    assert.type(rec.msg, 'string')
  }
  await ok(d, '/VolumeDriver.Remove', { Name: 'logged' })
})

s.test('restart: volumes and holders survive in the state file, held volumes are mounted again', async (c) => {
  const { d, exp } = c
  await ok(d, '/VolumeDriver.Create', { Name: 'kept', Opts: { source: source(c), uid: '1234', gid: '1234' } })
  await ok(d, '/VolumeDriver.Create', { Name: 'idle', Opts: { source: source(c), uid: '1235', gid: '1235' } })
  const mp = (await ok(d, '/VolumeDriver.Mount', { Name: 'kept', ID: 'k1' })).Mountpoint as string
  await shAs(2000, 2000, `umask 022; printf before > ${mp}/kept.txt`)
  const st = statSync(d.dirs.state)
  assert.is(st.mode & 0o777, 0o600)
  const saved = JSON.parse(readFileSync(d.dirs.state, 'utf8')) as { volumes: Record<string, { opts: unknown; mountedBy: string[] }> }
  assert.equal(saved.volumes.kept!.mountedBy, ['k1'])
  assert.equal(saved.volumes.kept!.opts, { source: source(c), uid: '1234', gid: '1234' })

  const stopped = await d.stop()
  assert.is(stopped.code, 0)
  assert.not.ok(isMounted(mp), 'SIGTERM unmounts')
  assert.not.ok(statSafe(d.dirs.socket), 'the socket is removed on exit')
  assert.is(readFileSync(join(exp, 'kept.txt'), 'utf8'), 'before', 'written data committed before exit')

  const again = await startServe({ dirs: d.dirs, env: c.env, args: ['--log-level', 'debug'] })
  c.d = again
  await again.waitFor(/"event":"mount".*"volume":"kept"|"volume":"kept".*"event":"mount"/)
  assert.ok(isMounted(mp), 'the held volume is mounted again')
  assert.not.ok(isMounted(join(d.dirs.mountRoot, 'idle')), 'a volume nobody held stays unmounted')
  assert.is(await shAs(2000, 2000, `cat ${mp}/kept.txt`), 'before')
  // dockerd's later Unmount for the ID it mounted with still works.
  await ok(again, '/VolumeDriver.Unmount', { Name: 'kept', ID: 'k1' })
  assert.not.ok(isMounted(mp))
  await ok(again, '/VolumeDriver.Remove', { Name: 'kept' })
  await ok(again, '/VolumeDriver.Remove', { Name: 'idle' })
})

function statSafe(p: string): boolean {
  try {
    statSync(p)
    return true
  } catch {
    return false
  }
}

s.run()

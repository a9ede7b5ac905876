// Locks across hosts (NLM v4): two mounts of one export stand in for two hosts, each its own mapnfs
// daemon with its own server identity (1234 and 1235), both used by local uid 2000, against a real
// ganesha with its lock manager and a private rpc.statd. Every lock is taken by a real process
// (test/fixtures/locker.py: fcntl F_SETLK/F_SETLKW/F_GETLK and flock), through the FUSE mount.
import * as assert from 'uvu/assert'
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { lockPortOptions, makeExportDir, nfsSource, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint, makeTempDir, projectRoot } from '../fixtures/paths.js'
import { daemonStats, mountCli, requireCli, runAs, type MountedCli } from '../fixtures/mount.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { delay, fusermountSync, isMounted } from '../fixtures/proc.js'
import { RpcTap } from '../fixtures/rpc-tap.js'

const LOCKER = join(projectRoot, 'test', 'fixtures', 'locker.py')
const GRACE_SECONDS = 8

interface Ctx {
  g: Ganesha
  exp: string
  tap: RpcTap
  a: MountedCli
  b: MountedCli
  lockDirA: string
  mountpointA: string
  recovery: string
  restart: () => Promise<void>
  remountA: () => Promise<void>
}

let ctx!: Ctx
const mountA = (c: { exp: string; g: Ganesha; tap: RpcTap; lockDirA: string; mountpointA: string }): Promise<MountedCli> =>
  mountCli(nfsSource(c.exp), c.mountpointA, ['-o', `uid=1234,gid=1234,${lockPortOptions(c.g)},nlmport=${c.tap.port},lockdir=${c.lockDirA},stats`])

const s = fixtureSuite<Ctx>('locks across two mounts (NLM v4, ganesha + rpc.statd)', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  mkdirSync(join(exp, 'shared'))
  chmodSync(join(exp, 'shared'), 0o1777)
  const recovery = makeTempDir('ganesha-recovery')
  let g = await startGanesha({ exports: [{ path: exp }], nlm: { graceSeconds: GRACE_SECONDS, recoveryDir: recovery } })
  defer(() => g.stop())
  // Mount A's lock calls pass a tap that reads their credentials.
  const tap = await RpcTap.start('127.0.0.1', g.nlmPort)
  defer(() => tap.close())
  const lockDirA = makeTempDir('locks-a')
  const lockDirB = makeTempDir('locks-b')
  const mountpointA = makeMountpoint()
  const c = { exp, g, tap, lockDirA, mountpointA }
  let a = await mountA(c)
  defer(async () => { await a.unmount() })
  const b = await mountCli(nfsSource(exp), makeMountpoint(), ['-o', `uid=1235,gid=1235,${lockPortOptions(g)},lockdir=${lockDirB},stats`])
  defer(async () => { await b.unmount() })
  ctx = {
    g, exp, tap, a, b, lockDirA, mountpointA, recovery,
    restart: async () => {
      await g.kill()
      g = await startGanesha({ exports: [{ path: exp }], ports: { nfsPort: g.nfsPort, mountPort: g.mountPort, nlmPort: g.nlmPort }, nlm: { graceSeconds: GRACE_SECONDS, recoveryDir: recovery }, waitGraceEnd: false })
      ctx.g = g
    },
    remountA: async () => {
      a = await mountA(c)
      ctx.a = a
    },
  }
  return ctx
})

/** One locker.py run as uid 2000: its stdout, trimmed. */
async function locker(...args: string[]): Promise<string> {
  const r = await runAs(2000, 2000, '/usr/bin/python3', [LOCKER, ...args], { timeoutMs: 60_000 })
  if (r.code !== 0) throw new Error(`locker.py ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout.trim()
}

interface Holder {
  child: ChildProcess
  /** Resolves once the lock is held ("locked" printed); rejects if the process ends first. */
  locked: Promise<void>
  /** True once "locked" was printed. */
  isLocked(): boolean
  /** Closes its stdin (it exits, closing the file: the lock goes) and waits for the exit. */
  release(): Promise<void>
}

/** A process (uid 2000) that waits for a lock (F_SETLKW, F_OFD_SETLKW, blocking flock), then holds it until released. */
function hold(kind: 'fcntl' | 'ofd' | 'flock', type: 'read' | 'write', path: string, range: string[] = []): Holder {
  const child = spawn('/usr/bin/python3', [LOCKER, 'hold', kind, type, path, ...range], { uid: 2000, gid: 2000, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let locked = false
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d })
  const lockedP = new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (out.includes('locked')) {
        locked = true
        resolve()
      }
    })
    void exited.then(() => { if (!locked) reject(new Error(`locker.py hold ${path} exited before locking: ${err}`)) })
  })
  lockedP.catch(() => undefined)
  return {
    child,
    locked: lockedP,
    isLocked: () => locked,
    release: async () => {
      child.stdin!.end()
      await exited
    },
  }
}

function file(name: string, content = 'lock me\n'): { server: string; a: string; b: string } {
  writeFileSync(join(ctx.exp, 'shared', name), content)
  chmodSync(join(ctx.exp, 'shared', name), 0o666)
  return { server: join(ctx.exp, 'shared', name), a: join(ctx.a.mountpoint, 'shared', name), b: join(ctx.b.mountpoint, 'shared', name) }
}

s.test('fcntl: a write lock through A makes F_SETLK through B fail with EAGAIN; F_GETLK shows it (with its pid on A)', async () => {
  const f = file('fcntl.txt')
  const h = hold('fcntl', 'write', f.a, ['0', '100'])
  await h.locked
  try {
    assert.is(await locker('try', 'fcntl', 'write', f.b), 'EAGAIN')
    assert.is(await locker('try', 'fcntl', 'read', f.b, '50', '10'), 'EAGAIN')
    // Outside the held range: free.
    assert.is(await locker('try', 'fcntl', 'write', f.b, '100', '10'), 'ok')
    // The holder is on "another host": its range and type, pid 0.
    assert.is(await locker('getlk', 'write', f.b), 'write 0 100 0')
    // On its own mount, as on a local disk: the holding process's pid.
    assert.is(await locker('getlk', 'write', f.a), `write 0 100 ${h.child.pid}`)
    assert.is(await locker('getlk', 'read', f.b, '200', '10'), 'unlocked')
  } finally {
    await h.release()
  }
  // Released with the process's close: B gets it now.
  assert.is(await locker('try', 'fcntl', 'write', f.b), 'ok')
})

s.test('fcntl: F_SETLKW through B waits, and proceeds as soon as A unlocks (the GRANTED callback, not polling)', async () => {
  const f = file('wait.txt')
  const h = hold('fcntl', 'write', f.a)
  await h.locked
  const w = hold('fcntl', 'write', f.b)
  try {
    await delay(1500)
    assert.not.ok(w.isLocked(), 'B must wait while A holds the lock')
    const t0 = Date.now()
    await h.release()
    await w.locked
    const waited = Date.now() - t0
    // Without the callback B would find out by asking again, 5 s after it was blocked.
    assert.ok(waited < 3000, `B got the lock ${waited} ms after A released it`)
    assert.is(await locker('try', 'fcntl', 'write', f.a), 'EAGAIN')
  } finally {
    await h.release()
    await w.release()
  }
})

s.test('two daemons, one portmapper entry: a grant for A reaches it through B\'s callback service (forwarded), not by polling', async () => {
  const f = file('forward.txt')
  // B blocks first, so B's daemon holds this host's NLM callback entry.
  const hb = hold('fcntl', 'write', f.a)
  await hb.locked
  const wb = hold('fcntl', 'write', f.b)
  await delay(500)
  await hb.release()
  await wb.locked
  // Now A waits for B: ganesha calls back to the entry (B's port), B hands it to A.
  const before = (await daemonStats(ctx.a)).locks!
  const wa = hold('fcntl', 'write', f.a)
  try {
    await delay(1500)
    assert.not.ok(wa.isLocked())
    const t0 = Date.now()
    await wb.release()
    await wa.locked
    const waited = Date.now() - t0
    assert.ok(waited < 3000, `A got the lock ${waited} ms after B released it`)
    const after = (await daemonStats(ctx.a)).locks!
    assert.is(after.blocked - before.blocked, 1)
    assert.is(after.grantCallbacks - before.grantCallbacks, 1, 'granted by the callback')
  } finally {
    await wa.release()
    await wb.release()
  }
})

s.test('a waiting F_SETLKW interrupted by a signal fails with EINTR and leaves nothing queued on the server', async () => {
  const f = file('interrupt.txt')
  const h = hold('fcntl', 'write', f.a)
  await h.locked
  try {
    assert.is(await locker('wait', 'fcntl', 'write', f.b, '1'), 'EINTR')
  } finally {
    await h.release()
  }
  // Had the request stayed queued, the server would now grant it to B's exited owner; A gets it.
  assert.is(await locker('try', 'fcntl', 'write', f.a), 'ok')
})

s.test('flock: an exclusive flock through A blocks B (LOCK_NB: EAGAIN; blocking: granted when A closes)', async () => {
  const f = file('flock.txt')
  const h = hold('flock', 'write', f.a)
  await h.locked
  const w = hold('flock', 'read', f.b)
  try {
    assert.is(await locker('try', 'flock', 'write', f.b), 'EAGAIN')
    assert.is(await locker('try', 'flock', 'read', f.b), 'EAGAIN')
    // flock is a whole-file lock on the server: fcntl on any range of the file meets it.
    assert.is(await locker('try', 'fcntl', 'read', f.b, '1000', '1'), 'EAGAIN')
    await delay(1000)
    assert.not.ok(w.isLocked())
    await h.release()
    await w.locked
    // Shared locks share: another reader on A is fine, a writer is not.
    assert.is(await locker('try', 'flock', 'read', f.a), 'ok')
    assert.is(await locker('try', 'flock', 'write', f.a), 'EAGAIN')
  } finally {
    await h.release()
    await w.release()
  }
})

s.test('OFD locks (F_OFD_SETLK): owned by the open file; the last close of that file releases them on the server', async () => {
  const f = file('ofd.txt')
  const h = hold('ofd', 'write', f.a, ['0', '10'])
  await h.locked
  try {
    assert.is(await locker('try', 'fcntl', 'write', f.b, '5', '1'), 'EAGAIN')
    // Another open file on the same mount is another owner, even in the same kind of process.
    assert.is(await locker('try', 'ofd', 'write', f.a, '5', '1'), 'EAGAIN')
    assert.is(await locker('try', 'ofd', 'write', f.a, '10', '1'), 'ok')
  } finally {
    await h.release()
  }
  // No FLUSH names an OFD lock's owner: only the file's RELEASE, which the kernel sends after
  // close() returns, can end it. B waits for it (at most 5 s).
  assert.is(await locker('wait', 'fcntl', 'write', f.b, '5'), 'locked')
  assert.is((await daemonStats(ctx.a)).locks!.held, 0, 'A holds nothing')
})

s.test('mapped identities: A\'s lock calls carry uid/gid 1234 on the wire, and the server lets 1235 contend', async () => {
  const f = file('who.txt')
  const seen = ctx.tap.calls.length
  const h = hold('fcntl', 'write', f.a)
  await h.locked
  try {
    assert.is(await locker('try', 'fcntl', 'write', f.b), 'EAGAIN')
    // The server's status monitor watches this client while it holds locks (ganesha's SM_MON
    // through rpc.statd; SM_UNMON once it holds none).
    assert.ok(readdirSync(join(ctx.g.statdDir!, 'sm')).length > 0, 'rpc.statd monitors the client')
  } finally {
    await h.release()
  }
  const calls = ctx.tap.calls.slice(seen).filter((c) => c.prog === 100021)
  const locks = calls.filter((c) => c.proc === 2)
  const unlocks = calls.filter((c) => c.proc === 4)
  assert.ok(locks.length >= 1 && unlocks.length >= 1, `LOCK and UNLOCK went through the tap: ${JSON.stringify(calls)}`)
  for (const c of calls) {
    assert.is(c.flavor, 1, 'AUTH_SYS')
    assert.is(`${c.uid}:${c.gid}`, '1234:1234')
  }
})

s.test('a daemon killed while holding a lock: its next run on the mount point releases it on the server', async () => {
  const f = file('killed.txt')
  const h = hold('fcntl', 'write', f.a)
  await h.locked
  // The journal is written just after the grant.
  const journaled = (): boolean => existsSync(join(ctx.lockDirA, 'mounts')) && readdirSync(join(ctx.lockDirA, 'mounts')).filter((n) => n.endsWith('.json')).length === 1
  for (let i = 0; i < 40 && !journaled(); i++) await delay(50)
  assert.ok(journaled(), 'the held lock is journaled')
  ctx.a.kill('SIGKILL')
  await ctx.a.exited
  await h.release() // its file is on a dead mount now: the close cannot reach anyone
  // The server still holds it: nobody told it otherwise.
  assert.is(await locker('try', 'fcntl', 'write', f.b), 'EAGAIN')
  if (isMounted(ctx.mountpointA)) fusermountSync(ctx.mountpointA)
  await ctx.remountA()
  await ctx.a.stderrLine(/released 1 lock\(s\) a previous run of this mount left/, 0, 20_000)
  assert.is(await locker('try', 'fcntl', 'write', f.b), 'ok')
  assert.not.ok(existsSync(join(ctx.lockDirA, 'mounts')) && readdirSync(join(ctx.lockDirA, 'mounts')).length > 0, 'journal emptied')
})

s.test('the host rebooted (another boot id): the first mount after it tells the server\'s statd (SM_NOTIFY), which drops the old locks', async () => {
  const f = file('reboot.txt')
  const h = hold('fcntl', 'write', f.a)
  await h.locked
  ctx.a.kill('SIGKILL')
  await ctx.a.exited
  await h.release()
  assert.is(await locker('try', 'fcntl', 'write', f.b), 'EAGAIN')
  // What a reboot leaves: no daemon journal (it is the status monitor's job now), another boot id.
  rmSync(join(ctx.lockDirA, 'mounts'), { recursive: true, force: true })
  const statePath = join(ctx.lockDirA, 'nsm-state.json')
  const before = JSON.parse(readFileSync(statePath, 'utf8')) as { bootId: string; state: number; servers: string[] }
  assert.equal(before.servers, ['127.0.0.1'])
  writeFileSync(statePath, JSON.stringify({ ...before, bootId: 'a-boot-before-this-one' }))
  if (isMounted(ctx.mountpointA)) fusermountSync(ctx.mountpointA)
  await ctx.remountA()
  await ctx.a.stderrLine(/this host rebooted: told the status monitor on 127\.0\.0\.1 \(SM_NOTIFY as [^)]*127\.0\.0\.1[^)]*, state \d+\)/, 0, 20_000)
  const after = JSON.parse(readFileSync(statePath, 'utf8')) as { state: number }
  assert.is(after.state, before.state + 2)
  // statd passes the notice on to ganesha (over UDP): the lock goes soon after.
  const deadline = Date.now() + 10_000
  let got = await locker('try', 'fcntl', 'write', f.b)
  while (got !== 'ok' && Date.now() < deadline) {
    await delay(250)
    got = await locker('try', 'fcntl', 'write', f.b)
  }
  assert.is(got, 'ok')
})

s.test('ganesha restarted while A holds a lock: A reclaims it in the grace period; B cannot take it', async () => {
  const f = file('restart.txt')
  const h = hold('fcntl', 'write', f.a, ['0', '10'])
  await h.locked
  try {
    await ctx.restart()
    await ctx.a.stderrLine(/reclaiming 1 lock range/, 0, 30_000)
    let reclaimed = 0
    for (let i = 0; i < 100 && reclaimed === 0; i++) {
      reclaimed = (await daemonStats(ctx.a)).locks!.reclaimed
      if (reclaimed === 0) await delay(100)
    }
    assert.is(reclaimed, 1, 'A reclaimed its lock')
    // B asks during the grace period: it waits for the grace to end, then finds A's lock.
    assert.is(await locker('try', 'fcntl', 'write', f.b), 'EAGAIN')
    assert.match(readFileSync(ctx.g.logPath, 'utf8'), /NOT IN GRACE/)
    assert.is(await locker('try', 'fcntl', 'write', f.b, '20', '5'), 'ok')
  } finally {
    await h.release()
  }
  assert.is(await locker('try', 'fcntl', 'write', f.b), 'ok')
})

s.test('sqlite3 on both mounts at once: every transaction lands and the database stays consistent', async () => {
  file('app.db', '')
  const script = `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
db.execute('create table if not exists t (who text, n integer, payload text)')
for i in range(int(sys.argv[3])):
    # Read and write in one write transaction: the count read is the count at the insert.
    db.execute('begin immediate')
    (count,) = db.execute('select count(*) from t').fetchone()
    db.execute('insert into t values (?, ?, ?)', (sys.argv[2], count, 'x' * 500))
    db.execute('commit')
print('done')
`
  const run = (dir: string, who: string) => runAs(2000, 2000, '/usr/bin/python3', ['-c', script, join(dir, 'shared', 'app.db'), who, '40'], { timeoutMs: 180_000 })
  const [ra, rb] = await Promise.all([run(ctx.a.mountpoint, 'a'), run(ctx.b.mountpoint, 'b')])
  assert.is(ra.stdout.trim(), 'done', ra.stderr)
  assert.is(rb.stdout.trim(), 'done', rb.stderr)
  const check = `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute('pragma integrity_check').fetchone()[0])
print(db.execute('select count(*) from t').fetchone()[0])
# each insert saw every row before it: the counts it read are exactly 0..N-1
print(sorted(r[0] for r in db.execute('select n from t')) == list(range(80)))
`
  const r = await runAs(2000, 2000, '/usr/bin/python3', ['-c', check, join(ctx.exp, 'shared', 'app.db')])
  assert.equal(r.stdout.trim().split('\n'), ['ok', '80', 'True'], r.stderr)
})

s.run()

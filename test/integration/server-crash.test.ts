// The server crashes (SIGKILL) in the middle of a 1 GiB write and comes back on the same ports
// after a pause longer than the major timeout. Three points of the write: before the first COMMIT
// (10 MiB in), between COMMITs (500 MiB in) and during the final fsync's COMMIT.
//
// hard: one write meets all three crashes and never notices; its writes, fsync and close succeed
//       and the file on the export has the pattern's sha256 (chunks a crash may have lost are
//       rewritten FILE_SYNC once the COMMIT verifier changes).
// soft: one write per point; the application gets an error (never silent loss) at the call the
//       crash hit, and the mount survives it.
//
// Each kill point is made exact: the writer pauses there, the server is frozen (SIGSTOP), the
// writer goes on until the daemon's own counters (SIGUSR2 stats) show its next call in flight on
// the frozen server, and only then the server is SIGKILLed. The counters at that moment say
// whether a COMMIT had happened (byProc 21) and how many WRITEs (byProc 7) had gone out.
import * as assert from 'uvu/assert'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { callsOf, daemonStats, lastStats, mountCli, NFSPROC3_COMMIT, NFSPROC3_WRITE, requireCli, type DaemonStats, type MountedCli } from '../fixtures/mount.js'
import { patternSha256, patternWriter, sha256File, startNodeApp, verifyPatternPrefix, type App } from '../fixtures/app.js'
import { delay, isAlive, isMounted } from '../fixtures/proc.js'
import { record } from '../fixtures/report.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { story } from '../fixtures/proxied-server.js'

const APP = 2000
const SIZE_MIB = 1024
const MiB = 1024 * 1024
/** 1 s minor timeout, one retransmission: a 2 s major timeout, so the pauses stay short. */
const TIMEOUTS = 'timeo=10,retrans=1'
const MAJOR_TIMEOUT_MS = 2000
/** Written through the mount after a soft crash: it serves again. */
const AFTER = 'after-restart.bin'

interface Ctx { exp: string; g: { current: Ganesha }; writer: string; want: string }

const s = fixtureSuite<Ctx>('server SIGKILLed during a 1 GiB write', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  const g = { current: await startGanesha({ exports: [{ path: exp }] }) }
  defer(() => g.current.stop())
  const writer = patternWriter()
  return { exp, g, writer, want: await patternSha256(SIZE_MIB) }
})

interface KillPoint {
  name: string
  /** MiB the writer has written (and the server acknowledged) when the crash hits. */
  writtenMiB: number
  /** The writer's argument that makes it pause there, and the line it prints when paused. */
  arg: string
  paused: RegExp
  /** True once the call the kill is meant to hit has gone out (server frozen, so it stays in flight). */
  hit(before: DaemonStats, now: DaemonStats): boolean
  /** What the daemon's counters must say at the kill. */
  check(atKill: DaemonStats): void
  /** Where a soft writer meets the error. */
  softStage: 'write' | 'fsync'
}

const POINTS: KillPoint[] = [
  {
    name: 'before the first COMMIT (10 MiB in)',
    writtenMiB: 10,
    arg: '--pause-at=10',
    paused: /^paused at 10$/,
    hit: (b, n) => n.inFlight >= 1 && callsOf(n, NFSPROC3_WRITE) > callsOf(b, NFSPROC3_WRITE),
    check: (k) => {
      assert.is(callsOf(k, NFSPROC3_COMMIT), 0, 'a COMMIT went out before the kill')
      assert.ok(callsOf(k, NFSPROC3_WRITE) * k.wsize >= 10 * MiB, `${callsOf(k, NFSPROC3_WRITE)} WRITEs of ${k.wsize} bytes`)
      // Acknowledged and uncommitted, or still written behind (queued, in flight): all of it held.
      assert.ok(k.uncommittedBytes + k.dirtyBytes >= 10 * MiB, `${k.uncommittedBytes} bytes uncommitted, ${k.dirtyBytes} dirty`)
    },
    softStage: 'write',
  },
  {
    name: 'between COMMITs (500 MiB in)',
    writtenMiB: 500,
    arg: '--pause-at=500',
    paused: /^paused at 500$/,
    hit: (b, n) => n.inFlight >= 1 && callsOf(n, NFSPROC3_WRITE) > callsOf(b, NFSPROC3_WRITE),
    check: (k) => {
      // A COMMIT every 32 MiB of uncommitted data: about 15 by 500 MiB.
      assert.ok(callsOf(k, NFSPROC3_COMMIT) >= 10, `${callsOf(k, NFSPROC3_COMMIT)} COMMITs by 500 MiB`)
      assert.ok(callsOf(k, NFSPROC3_WRITE) * k.wsize >= 500 * MiB, `${callsOf(k, NFSPROC3_WRITE)} WRITEs of ${k.wsize} bytes`)
      // Held and not committed: acknowledged UNSTABLE, or still written behind (with 1 MiB
      // requests from the kernel front end the last WRITEs can all be in flight when a COMMIT
      // has just covered the rest).
      assert.ok(k.uncommittedBytes + k.dirtyBytes > 0, `nothing uncommitted at the kill (${k.uncommittedBytes} acknowledged, ${k.dirtyBytes} in flight)`)
    },
    softStage: 'write',
  },
  {
    name: 'during the final fsync',
    writtenMiB: SIZE_MIB,
    arg: '--pause-before-fsync',
    paused: /^paused before-fsync$/,
    // Nothing is in flight when the writer is let go (crashAt), so any call now is the fsync's:
    // its COMMIT, or a WRITE it sends first. The kill meets whichever the fsync waits on.
    hit: (b, n) => n.inFlight >= 1 && n.calls > b.calls,
    check: (k) => {
      assert.ok(k.inFlight >= 1, 'nothing of the fsync is in flight')
      assert.ok(k.uncommittedBytes + k.dirtyBytes > 0, 'nothing uncommitted at the fsync')
    },
    softStage: 'fsync',
  },
]

/** Polls the daemon's counters (each poll waits for its stats line) until COND holds; bounded. */
async function statsWhen(m: MountedCli, cond: (s: DaemonStats) => boolean, what: string): Promise<DaemonStats> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const st = await daemonStats(m)
    if (cond(st)) return st
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last stats ${JSON.stringify(st)}`)
    await delay(20)
  }
}

/**
 * Freezes the server at POINT, waits for the call to hit it, SIGKILLs it. Returns the counters at
 * the kill and when the writer was let go (the call that meets the crash left after that).
 */
async function crashAt(g: { current: Ganesha }, m: MountedCli, app: App, point: KillPoint): Promise<{ atKill: DaemonStats; goAt: number }> {
  await app.waitLine(point.paused, 180_000)
  // Quiet first: a COMMIT the last write() started in the background, or a WRITE still in flight,
  // would otherwise be caught by the freeze. The fsync would then wait on that call and never
  // send its own, and that call's major timeout would run out before the one measured from `go`.
  await statsWhen(m, (n) => n.inFlight === 0 && n.dirtyBytes === 0, `the daemon to go quiet at "${point.arg}"`)
  g.current.freeze()
  const before = await daemonStats(m)
  const goAt = Date.now()
  app.send('go')
  const atKill = await statsWhen(m, (n) => point.hit(before, n), `the call after "${point.arg}" to reach the frozen server`)
  await g.current.kill()
  return { atKill, goAt }
}

function restart(ctx: Ctx, crashed: Ganesha): Promise<Ganesha> {
  return startGanesha({ exports: [{ path: ctx.exp }], ports: { nfsPort: crashed.nfsPort, mountPort: crashed.mountPort } })
}

/**
 * After a test, passed or failed: the writer killed, the mount gone, the server running again (on
 * the same ports) for the next test, the 1 GiB file removed. The daemon goes first: a writer
 * blocked in a hard mount's call only dies once the daemon answers or exits.
 */
async function cleanUp(ctx: Ctx, m: MountedCli, apps: (App | undefined)[], file: string): Promise<void> {
  const gone = apps.map((a) => a?.kill())
  ctx.g.current.thaw()
  await m.unmount().catch(() => undefined)
  await Promise.all(gone)
  if (!isAlive(ctx.g.current.pid)) {
    const dead = ctx.g.current
    await dead.stop()
    ctx.g.current = await restart(ctx, dead)
  }
  rmSync(join(ctx.exp, file), { force: true })
  rmSync(join(ctx.exp, AFTER), { force: true })
}

/**
 * Everything uncommitted at a crash was written again: at least one chunk per wsize bytes
 * (chunks are the kernel's write pieces, at most wsize each).
 */
function assertRewritten(before: number, after: number, uncommittedAtCrash: number, wsize: number, crash: string): void {
  const want = Math.ceil(uncommittedAtCrash / wsize)
  assert.ok(after - before >= want, `${after - before} chunks rewritten after ${crash}, which hit ${uncommittedAtCrash} uncommitted bytes (at least ${want} chunks)`)
}

function assertNothingLeft(m: MountedCli, app: App, mnt: string): void {
  assert.not.ok(isMounted(mnt), `${mnt} still mounted`)
  assert.not.ok(isAlive(m.pid), `mapnfs (pid ${m.pid}) still running`)
  assert.not.ok(isAlive(app.pid), `the writer (pid ${app.pid}) still running`)
}

s.test('hard: three SIGKILLs in one 1 GiB write (10 MiB in, 500 MiB in, during the final fsync), each restart after the major timeout: the writer exits 0, sha256 intact', async (ctx) => {
  const { g } = ctx
  const mnt = makeMountpoint()
  const file = 'hard.bin'
  const m = await mountCli(nfsSource(ctx.exp), mnt, ['-o', `uid=1234,gid=1234,${portOptions(g.current)},${TIMEOUTS},hard,stats`])
  const app = startNodeApp(APP, APP, ctx.writer, ['write', join(mnt, file), String(SIZE_MIB), ...POINTS.map((p) => p.arg)])
  const t0 = Date.now()
  try {
    const crashes: Record<string, unknown>[] = []
    let rewrittenBefore = 0
    let uncommittedBefore = 0
    for (const [i, point] of POINTS.entries()) {
      const crashed = g.current
      const logFrom = m.stderr().length
      const { atKill, goAt } = await crashAt(g, m, app, point)
      point.check(atKill)
      // What the previous crash may have lost was written again once the restarted server's
      // COMMIT verifier was seen (the point's own check already confirmed a COMMIT since).
      if (i > 0) assertRewritten(rewrittenBefore, atKill.rewrittenChunks, uncommittedBefore, atKill.wsize, `crash ${i}`)
      // The server stays away until the daemon has seen a whole major timeout without an answer.
      await m.stderrLine(/^mapnfs: server 127\.0\.0\.1 not responding, still trying$/, logFrom, 30_000)
      const downFor = Date.now() - goAt
      // (the timer ticks every 100 ms)
      assert.ok(downFor >= MAJOR_TIMEOUT_MS - 100, `"not responding" ${downFor} ms after the call, before the ${MAJOR_TIMEOUT_MS} ms major timeout`)
      assert.not.ok(app.lines.some((l) => l.text.startsWith('error ')), `the writer saw an error while the server was down:\n${story(app)}`)
      g.current = await restart(ctx, crashed)
      const restartedAt = Date.now()
      await m.stderrLine(/^mapnfs: server 127\.0\.0\.1 OK$/, logFrom, 30_000)
      crashes.push({
        point: point.name,
        atKill: { commits: callsOf(atKill, NFSPROC3_COMMIT), writes: callsOf(atKill, NFSPROC3_WRITE), inFlight: atKill.inFlight, uncommittedMiB: atKill.uncommittedBytes / MiB, rewrittenChunks: atKill.rewrittenChunks },
        notRespondingAfterCallMs: downFor,
        restartedAfterCallMs: restartedAt - goAt,
      })
      rewrittenBefore = atKill.rewrittenChunks
      uncommittedBefore = atKill.uncommittedBytes
    }
    const done = await app.waitLine(/^done /, 180_000)
    const exit = await app.exited
    assert.is(done.text, 'done ok', story(app))
    assert.is(exit.code, 0)
    const u = await m.unmount()
    assert.is(u.code, 0, u.stderr)
    const end = lastStats(u.stderr)
    assert.ok(end.reconnects >= POINTS.length, `reconnects ${end.reconnects}`)
    assert.ok(end.majorTimeouts >= POINTS.length, `majorTimeouts ${end.majorTimeouts}`)
    // The fsync's COMMIT came back from the restarted server with its new verifier: what it
    // covered was written again before fsync returned.
    assertRewritten(rewrittenBefore, end.rewrittenChunks, uncommittedBefore, end.wsize, 'the crash during fsync')
    assert.is(end.uncommittedBytes, 0)
    assert.not.match(u.stderr, /unexpected error|\n\s+at /, 'stack trace or unexpected error in the daemon output')
    assert.is(await sha256File(join(ctx.exp, file)), ctx.want, 'sha256 of the file on the export')
    assertNothingLeft(m, app, mnt)
    record('crash hard, three kills in one 1 GiB write', {
      crashes,
      totalMs: Date.now() - t0,
      end: { reconnects: end.reconnects, majorTimeouts: end.majorTimeouts, rewrittenChunks: end.rewrittenChunks, retransmits: end.retransmits },
    })
  } finally {
    await cleanUp(ctx, m, [app], file)
  }
})

for (const point of POINTS) {
  s.test(`soft: SIGKILL ${point.name}, server away longer than the major timeout: the writer gets ETIMEDOUT at ${point.softStage}, the mount survives`, async (ctx) => {
    const { g } = ctx
    const mnt = makeMountpoint()
    const file = 'soft.bin'
    const m = await mountCli(nfsSource(ctx.exp), mnt, ['-o', `uid=1234,gid=1234,${portOptions(g.current)},${TIMEOUTS},soft,stats`])
    const app = startNodeApp(APP, APP, ctx.writer, ['write', join(mnt, file), String(SIZE_MIB), point.arg])
    let after: App | undefined
    const t0 = Date.now()
    try {
      const crashed = g.current
      const logFrom = m.stderr().length
      const { atKill, goAt } = await crashAt(g, m, app, point)
      point.check(atKill)
      // The server stays away until the writer has finished, however that went.
      const done = await app.waitLine(/^done /, 60_000)
      const exit = await app.exited
      const errors = app.lines.filter((l) => l.text.startsWith('error '))
      // Never silent loss: a writer all of whose calls succeeded must find its data intact. Here
      // the server was away for longer than the major timeout, so a call must have failed.
      assert.ok(errors.length > 0, `the writer saw no error although the server was down for good:\n${story(app)}`)
      assert.is(done.text, 'done failed', story(app))
      assert.is(exit.code, 1)
      const first = errors[0]!
      const [, stage, code] = first.text.split(' ')
      assert.is(stage, point.softStage, story(app))
      assert.is(code, 'ETIMEDOUT', story(app))
      const errorAfter = first.at - goAt
      // One call's major timeout (not before: the timeout is the contract), plus slack for a loaded machine.
      assert.ok(errorAfter >= MAJOR_TIMEOUT_MS - 100 && errorAfter < 4 * MAJOR_TIMEOUT_MS + 5000, `the first error came ${errorAfter} ms after the call`)
      await m.stderrLine(/^mapnfs: server 127\.0\.0\.1 not responding, timed out$/, logFrom)
      g.current = await restart(ctx, crashed)
      // What COMMITs had made durable before the crash is intact: everything the server had
      // acknowledged (the writer is sequential) except what was still uncommitted at the kill.
      const committed = point.writtenMiB * MiB - atKill.uncommittedBytes
      await verifyPatternPrefix(join(ctx.exp, file), committed)
      // The daemon lived through it and serves again, on a fresh connection.
      assert.ok(isAlive(m.pid), 'mapnfs died')
      after = startNodeApp(APP, APP, ctx.writer, ['write', join(mnt, AFTER), '8'])
      const afterDone = await after.waitLine(/^done /, 60_000)
      await after.exited
      assert.is(afterDone.text, 'done ok', story(after))
      assert.is(await sha256File(join(ctx.exp, AFTER)), await patternSha256(8), 'sha256 of a file written after the restart')
      const u = await m.unmount()
      assert.is(u.code, 0, u.stderr)
      const end = lastStats(u.stderr)
      assert.ok(end.reconnects >= 1, `reconnects ${end.reconnects}`)
      assert.not.match(u.stderr, /unexpected error|\n\s+at /, 'stack trace or unexpected error in the daemon output')
      assertNothingLeft(m, app, mnt)
      assert.not.ok(isAlive(after.pid), 'the second writer still running')
      record(`crash soft ${point.name}`, {
        atKill: { commits: callsOf(atKill, NFSPROC3_COMMIT), writes: callsOf(atKill, NFSPROC3_WRITE), inFlight: atKill.inFlight, uncommittedMiB: atKill.uncommittedBytes / MiB },
        errors: errors.map((l) => `${l.text} (+${l.at - goAt} ms after the call)`),
        committedPrefixMiB: committed / MiB,
        totalMs: Date.now() - t0,
      })
    } finally {
      await cleanUp(ctx, m, [app, after], file)
    }
  })
}

s.run()

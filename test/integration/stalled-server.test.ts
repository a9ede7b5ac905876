// A server that stops answering without closing anything, and one that is slow: a TCP proxy
// (test/fixtures/tcp-proxy.ts) between mapnfs and a real nfs-ganesha stalls or throttles the NFS
// connection (MOUNT goes direct). What the application sees: soft calls fail with ETIMEDOUT within
// the major timeout; hard calls wait (with the daemon idle meanwhile) and complete once the
// server answers again; a connection the network lost is replaced; memory stays bounded while a
// writer outruns a slow server. Data is checked by sha256 on the export.
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { nfsSource } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { lastStats, mountCli, type MountedCli } from '../fixtures/mount.js'
import { patternSha256, sha256File, startNodeApp } from '../fixtures/app.js'
import { cpuSeconds, delay, isAlive, memoryMiB } from '../fixtures/proc.js'
import { cleanUp, finish, startProxiedServer, story, writeAndCheck, type ProxiedServer } from '../fixtures/proxied-server.js'
import { record } from '../fixtures/report.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { DIRTY_LIMIT } from '../../src/fuse/write-behind.js'

const APP = 2000
const MiB = 1024 * 1024
/** 1 s minor timeout, one retransmission: a 2 s major timeout. */
const TIMEOUTS = 'timeo=10,retrans=1'
const MAJOR_TIMEOUT_MS = 2000
/** Project target: the daemon stays under this resident size for a 1 GiB write to a slow server. */
const RSS_LIMIT_MIB = 200

type Ctx = ProxiedServer

const s = fixtureSuite<Ctx>('a server that stalls or slows down', startProxiedServer)

/** Mounts through the proxy (NFS) with MOUNT direct. */
function mountViaProxy(ctx: Ctx, mnt: string, opts: string): Promise<MountedCli> {
  return mountCli(nfsSource(ctx.exp), mnt, ['-o', `uid=1234,gid=1234,nfsport=${ctx.proxy.port},mountport=${ctx.g.mountPort},${TIMEOUTS},stats,${opts}`])
}

s.test('soft: a stalled server fails the waiting write with ETIMEDOUT after the major timeout; the mount serves again when it answers', async (ctx) => {
  const mnt = makeMountpoint()
  const m = await mountViaProxy(ctx, mnt, 'soft')
  const app = startNodeApp(APP, APP, ctx.writer, ['write', join(mnt, 'stalled.bin'), '64', '--pause-at=8'])
  try {
    await app.waitLine(/^paused at 8$/)
    const logFrom = m.stderr().length
    ctx.proxy.setMode({ kind: 'stall' })
    const goAt = Date.now()
    app.send('go')
    const done = await app.waitLine(/^done /, 60_000)
    assert.is(done.text, 'done failed', story(app))
    const first = app.lines.find((l) => l.text.startsWith('error '))!
    const [, stage, code] = first.text.split(' ')
    assert.is(stage, 'write', story(app))
    assert.is(code, 'ETIMEDOUT', story(app))
    const errorAfter = first.at - goAt
    assert.ok(errorAfter >= MAJOR_TIMEOUT_MS - 100 && errorAfter < 4 * MAJOR_TIMEOUT_MS + 5000, `ETIMEDOUT ${errorAfter} ms after the write`)
    // The daemon says so, once, as nfs(5) soft mounts do.
    await m.stderrLine(/^mapnfs: server 127\.0\.0\.1 not responding, timed out$/, logFrom)
    ctx.proxy.setMode({ kind: 'forward' })
    assert.ok(isAlive(m.pid), 'mapnfs died')
    await writeAndCheck(ctx, mnt, 'after-stall.bin', 8)
    const mem = memoryMiB(m.pid)
    const u = await finish(m, mnt, [app])
    record('stall soft', { errorAfterMs: errorAfter, errors: app.lines.filter((l) => l.text.startsWith('error ')).map((l) => l.text), peakRssMiB: mem.peak, stats: lastStats(u.stderr) })
  } finally {
    await cleanUp(ctx, m, [app], ['stalled.bin', 'after-stall.bin'])
  }
})

s.test('soft: a connection lost in the network (silent, never closed) is replaced after a major timeout; the next write succeeds', async (ctx) => {
  const mnt = makeMountpoint()
  const m = await mountViaProxy(ctx, mnt, 'soft')
  const app = startNodeApp(APP, APP, ctx.writer, ['write', join(mnt, 'lost.bin'), '16', '--pause-at=4'])
  try {
    await app.waitLine(/^paused at 4$/)
    const accepted = ctx.proxy.stats().accepted
    ctx.proxy.setMode({ kind: 'blackhole' })
    app.send('go')
    const done = await app.waitLine(/^done /, 60_000)
    assert.is(done.text, 'done failed', story(app))
    // Write-behind: the failure is reported at the next write, fsync or close, whichever comes first.
    assert.match(app.lines.find((l) => l.text.startsWith('error '))!.text, /^error (write|fsync|close) ETIMEDOUT /, story(app))
    // The server itself is fine: the next application must not fail for ever on the dead connection.
    await writeAndCheck(ctx, mnt, 'after-loss.bin', 8)
    assert.ok(ctx.proxy.stats().accepted > accepted, 'no fresh connection was opened')
    const u = await finish(m, mnt, [app])
    record('blackhole soft', { stats: lastStats(u.stderr) })
  } finally {
    await cleanUp(ctx, m, [app], ['lost.bin', 'after-loss.bin'])
  }
})

s.test('hard: the write waits through a stall with the daemon idle, and completes intact when the server answers again', async (ctx) => {
  const mnt = makeMountpoint()
  const m = await mountViaProxy(ctx, mnt, 'hard')
  const app = startNodeApp(APP, APP, ctx.writer, ['write', join(mnt, 'waited.bin'), '64', '--pause-at=8'])
  try {
    await app.waitLine(/^paused at 8$/)
    const logFrom = m.stderr().length
    const accepted = ctx.proxy.stats().accepted
    ctx.proxy.setMode({ kind: 'stall' })
    const stalledAt = Date.now()
    app.send('go')
    await m.stderrLine(/^mapnfs: server 127\.0\.0\.1 not responding, still trying$/, logFrom, 30_000)
    const notRespondingAfter = Date.now() - stalledAt
    // CPU over a few seconds of stall: the daemon only ticks and redials once per major timeout.
    const cpu0 = cpuSeconds(m.pid)
    const t0 = Date.now()
    await delay(3000)
    const cpu1 = cpuSeconds(m.pid)
    const window = (Date.now() - t0) / 1000
    const cpuShare = (cpu1 - cpu0) / window
    // Write-behind lets the writer run ahead by DIRTY_LIMIT (plus the chunk being filled), no further.
    const progressed = app.lines.filter((l) => l.text.startsWith('progress ')).length
    assert.ok(progressed >= 8 && progressed <= 8 + DIRTY_LIMIT / MiB + 2, `the writer got to ${progressed} MiB although the server was stalled`)
    assert.not.ok(app.lines.some((l) => l.text.startsWith('error ')), story(app))
    assert.ok(cpuShare < 0.1, `daemon used ${(cpuShare * 100).toFixed(1)}% of a core while the server was stalled`)
    // Silence for a whole major timeout replaces the connection (the proxy accepts and stalls it too).
    const redials = ctx.proxy.stats().accepted - accepted
    assert.ok(redials >= 1, 'the silent connection was never replaced')
    ctx.proxy.setMode({ kind: 'forward' })
    const resumedAt = Date.now()
    await m.stderrLine(/^mapnfs: server 127\.0\.0\.1 OK$/, logFrom, 30_000)
    const done = await app.waitLine(/^done /, 120_000)
    assert.is(done.text, 'done ok', story(app))
    assert.is((await app.exited).code, 0)
    assert.is(await sha256File(join(ctx.exp, 'waited.bin')), await patternSha256(64))
    const mem = memoryMiB(m.pid)
    const u = await finish(m, mnt, [app])
    const end = lastStats(u.stderr)
    assert.ok(end.majorTimeouts >= 1, `majorTimeouts ${end.majorTimeouts}`)
    record('stall hard', {
      notRespondingAfterMs: notRespondingAfter,
      cpuSeconds: cpu1 - cpu0,
      windowSeconds: window,
      cpuPercentOfCore: cpuShare * 100,
      redialsDuringStall: redials,
      doneAfterResumeMs: done.at - resumedAt,
      peakRssMiB: mem.peak,
      stats: end,
    })
  } finally {
    await cleanUp(ctx, m, [app], ['waited.bin'])
  }
})

s.test(`hard: 1 GiB written through a server slowed to 48 MiB/s: daemon peak RSS under ${RSS_LIMIT_MIB} MiB, sha256 intact`, async (ctx) => {
  const rate = 48 * MiB
  const mnt = makeMountpoint()
  ctx.proxy.setMode({ kind: 'throttle', bytesPerSecond: rate })
  const m = await mountViaProxy(ctx, mnt, 'hard')
  const app = startNodeApp(APP, APP, ctx.writer, ['write', join(mnt, 'slow.bin'), '1024'])
  try {
    const t0 = Date.now()
    const done = await app.waitLine(/^done /, 180_000)
    const seconds = (done.at - t0) / 1000
    assert.is(done.text, 'done ok', story(app))
    // The proxy cannot deliver faster than its rate: the writer was held back by the server.
    assert.ok(seconds >= 1024 * MiB / rate * 0.9, `1 GiB in ${seconds} s through a ${rate / MiB} MiB/s link`)
    const mem = memoryMiB(m.pid)
    assert.ok(mem.peak < RSS_LIMIT_MIB, `daemon peak RSS ${mem.peak.toFixed(0)} MiB (VmHWM), limit ${RSS_LIMIT_MIB} MiB`)
    assert.is(await sha256File(join(ctx.exp, 'slow.bin')), await patternSha256(1024))
    const u = await finish(m, mnt, [app])
    record('throttle hard 1 GiB', { seconds, mibPerSecond: 1024 / seconds, peakRssMiB: mem.peak, rssAtEndMiB: mem.rss, stats: lastStats(u.stderr) })
  } finally {
    await cleanUp(ctx, m, [app], ['slow.bin'])
  }
})

s.test(`hard: four writers at once (4 x 64 MiB) through a server slowed to 48 MiB/s: daemon peak RSS under ${RSS_LIMIT_MIB} MiB, sha256 intact`, async (ctx) => {
  // Each file is bounded by its own write-behind window; together they are bounded by the mount's
  // budget, which must keep the sum under the same target.
  const rate = 48 * MiB
  const mnt = makeMountpoint()
  ctx.proxy.setMode({ kind: 'throttle', bytesPerSecond: rate })
  const m = await mountViaProxy(ctx, mnt, 'hard')
  const names = [0, 1, 2, 3].map((i) => `parallel-${i}.bin`)
  const apps = names.map((n) => startNodeApp(APP, APP, ctx.writer, ['write', join(mnt, n), '64']))
  try {
    const t0 = Date.now()
    const done = await Promise.all(apps.map((a) => a.waitLine(/^done /, 180_000)))
    const seconds = (Math.max(...done.map((d) => d.at)) - t0) / 1000
    for (const [i, d] of done.entries()) assert.is(d.text, 'done ok', story(apps[i]!))
    const mem = memoryMiB(m.pid)
    assert.ok(mem.peak < RSS_LIMIT_MIB, `daemon peak RSS ${mem.peak.toFixed(0)} MiB (VmHWM), limit ${RSS_LIMIT_MIB} MiB`)
    const want = await patternSha256(64)
    for (const n of names) assert.is(await sha256File(join(ctx.exp, n)), want, `sha256 of ${n}`)
    const u = await finish(m, mnt, apps)
    record('throttle hard 4 x 64 MiB in parallel', { seconds, mibPerSecond: 256 / seconds, peakRssMiB: mem.peak, rssAtEndMiB: mem.rss, stats: lastStats(u.stderr) })
  } finally {
    await cleanUp(ctx, m, apps, names)
  }
})

s.run()

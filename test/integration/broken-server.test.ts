// A server that is there but broken: it closes every connection right after accepting it, or it
// answers with bytes that are not RPC (a record mark announcing 2 GiB; well-framed records of
// random bytes carrying the call's xid). A TCP proxy (test/fixtures/tcp-proxy.ts) in front of a
// real nfs-ganesha plays that server for the NFS program; MOUNT goes direct.
//
// At mount time: one `mapnfs: ...` line, a non-zero exit within a bounded time, nothing mounted
// (never a hang, a crash or a stack trace), even with `hard`, since the mount itself is soft.
// Under a live soft mount: the application gets an error, the daemon lives on with bounded
// memory and serves again once the server is healthy. Under a hard mount: the application waits,
// the daemon redials with backoff (not in a loop), and the write completes intact.
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { nfsSource } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { connectionsPerMount, lastStats, mountCli, runCli } from '../fixtures/mount.js'
import { assertCleanFailure } from '../fixtures/expect.js'
import { patternSha256, sha256File, startNodeApp } from '../fixtures/app.js'
import { cpuSeconds, isAlive, memoryMiB } from '../fixtures/proc.js'
import type { ProxyMode } from '../fixtures/tcp-proxy.js'
import { cleanUp, finish, startProxiedServer, story, writeAndCheck, type ProxiedServer } from '../fixtures/proxied-server.js'
import { record } from '../fixtures/report.js'
import { fixtureSuite } from '../fixtures/suite.js'

const APP = 2000
/** 1 s minor timeout, one retransmission: a 2 s major timeout. */
const TIMEOUTS = 'timeo=10,retrans=1'
const MAJOR_TIMEOUT_MS = 2000
/** A failed mount must be over within a few major timeouts; far below the 20 s a hang would take to notice. */
const MOUNT_FAIL_BOUND_MS = 4 * MAJOR_TIMEOUT_MS + 5000
const RSS_LIMIT_MIB = 200

type Ctx = ProxiedServer

const s = fixtureSuite<Ctx>('a server that closes every connection or answers garbage', startProxiedServer)

const BROKEN: { name: string; mode: ProxyMode; softError: string }[] = [
  // Every redial is dropped again: the call meets its major timeout.
  { name: 'closes every connection at once', mode: { kind: 'close' }, softError: 'ETIMEDOUT' },
  // The record mark is refused before anything is allocated; the redials fare no better.
  { name: 'answers with a 2 GiB record mark', mode: { kind: 'garbage', style: 'huge-mark' }, softError: 'ETIMEDOUT' },
  // A reply for the call that does not decode: the call fails at once (as Linux does after its retries).
  { name: 'answers with well-framed random records', mode: { kind: 'garbage', style: 'records' }, softError: 'EIO' },
]

function options(ctx: Ctx, extra: string): string {
  return `uid=1234,gid=1234,nfsport=${ctx.proxy.port},mountport=${ctx.g.mountPort},${TIMEOUTS},${extra}`
}

for (const b of BROKEN) {
  for (const semantics of ['soft', 'hard']) {
    s.test(`mount (${semantics}) through a server that ${b.name}: one mapnfs: line, non-zero exit within ${MOUNT_FAIL_BOUND_MS / 1000} s, nothing mounted`, async (ctx) => {
      const mnt = makeMountpoint()
      ctx.proxy.setMode(b.mode)
      try {
        const accepted = ctx.proxy.stats().accepted
        const t0 = Date.now()
        const r = await runCli(['mount', nfsSource(ctx.exp), mnt, '-o', options(ctx, semantics)], { timeoutMs: 60_000 })
        const ms = Date.now() - t0
        const line = assertCleanFailure(r, mnt)
        assert.ok(ms < MOUNT_FAIL_BOUND_MS, `the failed mount took ${ms} ms`)
        assert.ok(ctx.proxy.stats().accepted > accepted, 'mapnfs never reached the proxy')
        assert.not.match(line, /undefined|\[object /, line)
        record(`mount ${semantics}, server ${b.name}`, { ms, exit: r.code, line, connections: ctx.proxy.stats().accepted - accepted })
      } finally {
        ctx.proxy.setMode({ kind: 'forward' })
      }
    })
  }
}

for (const b of BROKEN) {
  s.test(`soft, live mount: the server turns to one that ${b.name}: the writer gets ${b.softError}, the daemon lives on and serves again`, async (ctx) => {
    const mnt = makeMountpoint()
    const m = await mountCli(nfsSource(ctx.exp), mnt, ['-o', options(ctx, 'soft,stats')])
    const app = startNodeApp(APP, APP, ctx.writer, ['write', join(mnt, 'broken.bin'), '64', '--pause-at=8'])
    try {
      await app.waitLine(/^paused at 8$/)
      ctx.proxy.setMode(b.mode)
      const cpu0 = cpuSeconds(m.pid)
      const goAt = Date.now()
      app.send('go')
      const done = await app.waitLine(/^done /, 60_000)
      const window = (Date.now() - goAt) / 1000
      const cpu = (cpuSeconds(m.pid) - cpu0) / window
      assert.is(done.text, 'done failed', story(app))
      const first = app.lines.find((l) => l.text.startsWith('error '))!
      const [, stage, code] = first.text.split(' ')
      assert.is(stage, 'write', story(app))
      assert.is(code, b.softError, story(app))
      const errorAfter = first.at - goAt
      assert.ok(errorAfter < 4 * MAJOR_TIMEOUT_MS + 5000, `the error came ${errorAfter} ms after the write`)
      assert.ok(isAlive(m.pid), 'mapnfs died')
      const mem = memoryMiB(m.pid)
      assert.ok(mem.peak < RSS_LIMIT_MIB, `daemon peak RSS ${mem.peak.toFixed(0)} MiB`)
      ctx.proxy.setMode({ kind: 'forward' })
      await writeAndCheck(ctx, mnt, 'healthy-again.bin', 8)
      const u = await finish(m, mnt, [app])
      record(`live soft mount, server ${b.name}`, {
        errors: app.lines.filter((l) => l.text.startsWith('error ')).map((l) => `${l.text} (+${l.at - goAt} ms)`),
        // (over the seconds the writer took to fail; meaningless when it failed at once)
        ...(window >= 1 ? { cpuPercentOfCore: cpu * 100 } : {}),
        peakRssMiB: mem.peak,
        rssMiB: mem.rss,
        daemonLines: u.stderr.split('\n').filter((l) => l.length > 0 && !l.startsWith('mapnfs: stats')).slice(0, 6),
        stats: lastStats(u.stderr),
      })
    } finally {
      await cleanUp(ctx, m, [app], ['broken.bin', 'healthy-again.bin'])
    }
  })
}

s.test('hard, live mount: a server that closes every connection is redialled with backoff while the writer waits; the write completes intact', async (ctx) => {
  const mnt = makeMountpoint()
  const m = await mountCli(nfsSource(ctx.exp), mnt, ['-o', options(ctx, 'hard,stats')])
  const app = startNodeApp(APP, APP, ctx.writer, ['write', join(mnt, 'redial.bin'), '64', '--pause-at=8'])
  try {
    await app.waitLine(/^paused at 8$/)
    const logFrom = m.stderr().length
    ctx.proxy.setMode({ kind: 'close' })
    const accepted = ctx.proxy.stats().accepted
    const cpu0 = cpuSeconds(m.pid)
    const t0 = Date.now()
    app.send('go')
    await m.stderrLine(/^mapnfs: server 127\.0\.0\.1 not responding, still trying$/, logFrom, 30_000)
    // Eight dials per connection, each dropped at once: the waits between them double from 50 ms
    // towards 2 s, so they take at least 50 + 100 + ... + 1600 + 2000 ms = 5.15 s, where a client
    // without backoff would be done in well under a second. With several connections (nconnect,
    // workers) each backs off on its own, and their dials interleave.
    const conns = connectionsPerMount()
    const dials = 8 * conns
    await ctx.proxy.waitAccepted(accepted + dials, 60_000)
    const seconds = (Date.now() - t0) / 1000
    const cpu = (cpuSeconds(m.pid) - cpu0) / seconds
    const times = ctx.proxy.acceptTimes().slice(accepted, accepted + dials)
    const gaps = times.slice(1).map((t, i) => t - times[i]!)
    const span = times[times.length - 1]! - times[0]!
    assert.ok(span >= 0.6 * 5150, `${dials} dials (${conns} connections) within ${span} ms, gaps ${gaps.join(', ')} ms: not backing off`)
    if (conns === 1) assert.ok(gaps[gaps.length - 1]! >= 1000, `gaps between dials ${gaps.join(', ')} ms: not backing off`)
    assert.ok(cpu < 0.1, `daemon used ${(cpu * 100).toFixed(1)}% of a core while redialling`)
    assert.not.ok(app.lines.some((l) => l.text.startsWith('error ')), story(app))
    ctx.proxy.setMode({ kind: 'forward' })
    const done = await app.waitLine(/^done /, 120_000)
    assert.is(done.text, 'done ok', story(app))
    assert.is(await sha256File(join(ctx.exp, 'redial.bin')), await patternSha256(64))
    const mem = memoryMiB(m.pid)
    const u = await finish(m, mnt, [app])
    assert.match(u.stderr, /^mapnfs: server 127\.0\.0\.1 OK$/m)
    record('live hard mount, server closes every connection', { gapsMs: gaps, seconds, cpuPercentOfCore: cpu * 100, peakRssMiB: mem.peak, stats: lastStats(u.stderr) })
  } finally {
    await cleanUp(ctx, m, [app], ['redial.bin'])
  }
})

s.run()

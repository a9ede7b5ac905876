// Which engine a mount runs, and how many connections it opens. npm test runs test/integration
// twice (scripts/test.sh), the second time with MAPNFS_TEST_ENGINE_OPTS naming the engine that is
// not the default; the first test here proves that the mounts of each run use the engine meant.
import * as assert from 'uvu/assert'
import { createHash, randomFillSync } from 'node:crypto'
import { chownSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { lastStats, mountCli, requireCli, shAs, type DaemonStats, type MountedCli } from '../fixtures/mount.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { defaultWorkers } from '../../src/mount/options.js'

interface Ctx { g: Ganesha; exp: string; sum: string }

const SIZE = 16 * 1024 * 1024

const s = fixtureSuite<Ctx>('engines: inline and pooled, nconnect', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  const data = Buffer.alloc(SIZE)
  randomFillSync(data)
  writeFileSync(join(exp, 'data.bin'), data)
  chownSync(join(exp, 'data.bin'), 1234, 1234)
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  return { g, exp, sum: createHash('sha256').update(data).digest('hex') }
})

/** Established TCP connections of process PID to 127.0.0.1:PORT (its socket fds matched in /proc/PID/net/tcp). */
function connectionsTo(pid: number, port: number): number {
  const inodes = new Set<string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m) inodes.add(m[1]!)
    } catch {
      // the fd closed meanwhile
    }
  }
  return readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1).filter((line) => {
    const f = line.trim().split(/\s+/)
    // sl local rem st ... inode: remote port in hex, state 01 = ESTABLISHED
    return f.length > 9 && parseInt(f[2]!.split(':')[1]!, 16) === port && f[3] === '01' && inodes.has(f[9]!)
  }).length
}

/** Mounts with OPTS, runs FN, unmounts; resolves with FN's value and the stats line printed at exit. */
async function mounted<T>(ctx: Ctx, opts: string, fn: (m: MountedCli, mnt: string) => Promise<T>): Promise<[T, DaemonStats]> {
  const mnt = makeMountpoint()
  const m = await mountCli(nfsSource(ctx.exp), mnt, ['-o', `uid=1234,gid=1234,${portOptions(ctx.g)},stats${opts ? ',' + opts : ''}`])
  let value: T
  try {
    value = await fn(m, mnt)
  } catch (err) {
    await m.unmount().catch(() => undefined)
    throw err
  }
  const u = await m.unmount()
  assert.is(u.code, 0, `mapnfs exited ${u.code}: ${u.stderr}`)
  return [value, lastStats(u.stderr)]
}

const sha256Of = async (path: string): Promise<string> => (await shAs(2000, 2000, `sha256sum ${path}`)).split(' ')[0]!

s.test('each run of the suite mounts the engine it means (workers in the stats line)', async (ctx) => {
  const named = /(?:^|,)workers=(\d+)/.exec(process.env.MAPNFS_TEST_ENGINE_OPTS ?? '')
  const want = named ? Number(named[1]) : defaultWorkers(availableParallelism())
  const [sum, stats] = await mounted(ctx, '', (_m, mnt) => sha256Of(join(mnt, 'data.bin')))
  assert.is(sum, ctx.sum)
  assert.is(stats.workers, want)
})

for (const [name, opts, conns] of [
  ['inline, nconnect=3', 'workers=0,nconnect=3', 3],
  ['pooled, 2 workers x nconnect=2', 'workers=2,nconnect=2', 4],
] as const) {
  s.test(`${name}: ${conns} connections to the server, a 16 MiB file read back intact, counters summed`, async (ctx) => {
    const [sum, stats] = await mounted(ctx, opts, async (m, mnt) => {
      assert.is(connectionsTo(m.pid, ctx.g.nfsPort), conns, 'established connections to the NFS port')
      return sha256Of(join(mnt, 'data.bin'))
    })
    assert.is(sum, ctx.sum)
    const reads = stats.byProc['6'] ?? 0
    assert.ok(reads >= SIZE / stats.rsize, `${reads} READs for ${SIZE} bytes at rsize ${stats.rsize}`)
    assert.is(stats.replies, stats.calls, 'every call answered')
    assert.is(stats.inFlight, 0)
  })
}

s.run()

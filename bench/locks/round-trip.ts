// What a lock costs when it is taken on the server (NLM, local_lock=none, the default) next to one
// kept on this host (nolock), through the same mapnfs build and ganesha, in one run, alternating.
//
// Loads, each a python3 loop as local uid 2000 on one file of the export:
//   lock/unlock   fcntl F_SETLK write lock of the whole file + F_UNLCK, N times
//   lock+write    F_SETLK, pwrite 4 KiB, F_UNLCK: data under a lock (flushed before the unlock)
//   flock         flock(LOCK_EX) + flock(LOCK_UN), N times
//   lock/unlock, 1 held   as lock/unlock, with a lock held on another file all along (see below)
// Table: median ops/s of ROUNDS rounds for each mode, and the ratio server/local.
//
// Run as root: npm run bench:locks      (needs npm run build, nfs-ganesha, rpcbind, rpc.statd, fuse)
import { chmodSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { lockPortOptions, makeExportDir, nfsSource, startGanesha } from '../../test/fixtures/ganesha.js'
import { mountCli, requireCli, runAs, type MountedCli } from '../../test/fixtures/mount.js'
import { makeMountpoint, makeTempDir } from '../../test/fixtures/paths.js'
import { printTable } from '../lib/side-by-side.js'

const N = 500
const ROUNDS = 5

const LOADS: Record<string, string> = {
  'lock/unlock': `for i in range(N): fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); fcntl.lockf(fd, fcntl.LOCK_UN)`,
  'lock+write': `for i in range(N):
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); os.pwrite(fd, block, 0); fcntl.lockf(fd, fcntl.LOCK_UN)`,
  flock: `for i in range(N): fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); fcntl.flock(fd, fcntl.LOCK_UN)`,
  // ganesha monitors a client (SM_MON to its rpc.statd) on its first lock and stops (SM_UNMON)
  // when it holds none: with a lock held on another file, the loop shows NLM alone.
  'lock/unlock, 1 held': `other = os.open(sys.argv[1] + '.held', os.O_RDWR)
fcntl.lockf(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
t0 = time.perf_counter()
for i in range(N): fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); fcntl.lockf(fd, fcntl.LOCK_UN)`,
}

async function opsPerSec(m: MountedCli, load: string): Promise<number> {
  const code = `import fcntl, os, sys, time
N = ${N}
block = b'x' * 4096
fd = os.open(sys.argv[1], os.O_RDWR)
t0 = time.perf_counter()
${LOADS[load]}
print(N / (time.perf_counter() - t0))`
  const r = await runAs(2000, 2000, '/usr/bin/python3', ['-c', code, join(m.mountpoint, 'bench.dat')], { timeoutMs: 120_000 })
  if (r.code !== 0) throw new Error(`${load} failed: ${r.stderr.trim()}`)
  return Number(r.stdout.trim())
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:locks needs root (nfs-ganesha, FUSE mounts, setuid children)')
  requireCli()
  const exp = makeExportDir()
  writeFileSync(join(exp, 'bench.dat'), Buffer.alloc(1 << 20))
  chmodSync(join(exp, 'bench.dat'), 0o666)
  writeFileSync(join(exp, 'bench.dat.held'), '')
  chmodSync(join(exp, 'bench.dat.held'), 0o666)
  const g = await startGanesha({ exports: [{ path: exp }], nlm: { graceSeconds: 2 } })
  const opts = `uid=1234,gid=1234,${lockPortOptions(g)},lockdir=${makeTempDir('bench-locks')}`
  const server = await mountCli(nfsSource(exp), makeMountpoint(), ['-o', opts])
  const local = await mountCli(nfsSource(exp), makeMountpoint(), ['-o', `${opts},nolock`])
  const rows: string[][] = []
  try {
    for (const load of Object.keys(LOADS)) {
      const res = { server: [] as number[], local: [] as number[] }
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? (['server', 'local'] as const) : (['local', 'server'] as const)
        for (const mode of order) res[mode].push(await opsPerSec(mode === 'server' ? server : local, load))
      }
      const s = median(res.server)
      const l = median(res.local)
      rows.push([load, l.toFixed(0), s.toFixed(0), `${(s / l).toFixed(3)}x`, `${(1e6 / s).toFixed(0)} us`])
    }
  } finally {
    await server.unmount()
    await local.unmount()
    await g.stop()
    rmSync(exp, { recursive: true, force: true })
  }
  printTable(
    `locks as uid 2000 through mapnfs: kept on this host (nolock) vs taken on the server (NLM v4 to ganesha on loopback); ${N} per round, median of ${ROUNDS} alternating rounds; ${new Date().toISOString()}`,
    ['load', 'local ops/s', 'server ops/s', 'server/local', 'server per op'],
    rows,
  )
}

await main().catch((err: Error) => {
  process.stderr.write(`bench:locks failed: ${err.stack ?? err.message}\n`)
  process.exitCode = 1
})

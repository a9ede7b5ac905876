// The kernel's writeback cache on the kernel front end, side by side: one private nfs-ganesha, two
// mounts of the same export, `-o frontend=kernel` and `-o frontend=kernel,writeback` (both also
// uid=/gid=, the ports and stats, as in bench:compare; workers left at the default), and
// bench:compare's seq write load (fio compare/fio/seq_write_1t.fio: one job, 1 MiB psync writes,
// buffered, end_fsync=1, so fio's time includes the fsync) as uid APP_ID, ROUNDS times on each,
// alternating which mount goes first. Prints the median and range of MiB/s per mount, the
// daemon's CPU seconds per GiB, and from its stats line the WRITEs and COMMITs the load sent
// (mean bytes per WRITE). Everything it starts is stopped by pid; nothing stays mounted.
//
//   npx tsx bench/compare/writeback.ts [--size MiB] [--rounds N]     (as root; defaults 256 MiB, 3)
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../../test/fixtures/ganesha.js'
import { callsOf, daemonStats, mountCli, NFSPROC3_COMMIT, NFSPROC3_WRITE, requireCli, type MountedCli } from '../../test/fixtures/mount.js'
import { makeMountpoint } from '../../test/fixtures/paths.js'
import { cpuSeconds } from '../../test/fixtures/proc.js'
import { requireFio, runFio } from '../lib/fio.js'
import { printTable } from '../lib/side-by-side.js'
import { APP_ID, SERVER_ID } from './config.js'

const MiB = 1024 * 1024
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name)
  const n = i > 0 ? Number(process.argv[i + 1]) : dflt
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} wants a positive integer`)
  return n
}
const sizeMiB = arg('--size', 256)
const rounds = arg('--rounds', 3)
const job = new URL('./fio/seq_write_1t.fio', import.meta.url).pathname
const progress = (line: string): void => { process.stderr.write(`writeback: ${line}\n`) }

interface Config { name: string; opts: string[] }
const CONFIGS: Config[] = [
  { name: 'frontend=kernel', opts: ['frontend=kernel'] },
  { name: 'frontend=kernel,writeback', opts: ['frontend=kernel', 'writeback'] },
]

interface Run { mibs: number; cpu: number; bytes: number; writes: number; commits: number; written: number }

async function once(m: MountedCli, exportDir: string, name: string): Promise<Run> {
  const before = await daemonStats(m)
  const cpu0 = cpuSeconds(m.pid)
  try {
    const r = await runFio(job, {
      uid: APP_ID, cwd: '/', timeoutMs: 300_000,
      env: { MAPNFS_FILE: join(m.mountpoint, name), MAPNFS_SIZE: String(sizeMiB * MiB), MAPNFS_RUNTIME: '600' },
    })
    if (r.error !== undefined) throw new Error(`fio: ${r.error}`)
    const after = await daemonStats(m)
    return {
      mibs: r.mibs, cpu: cpuSeconds(m.pid) - cpu0, bytes: r.bytes,
      writes: callsOf(after, NFSPROC3_WRITE) - callsOf(before, NFSPROC3_WRITE),
      commits: callsOf(after, NFSPROC3_COMMIT) - callsOf(before, NFSPROC3_COMMIT),
      written: after.bytesWritten - before.bytesWritten,
    }
  } finally {
    rmSync(join(exportDir, name), { force: true })
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (nfs-ganesha, frontend=kernel mounts, setpriv)')
  requireFio()
  requireCli()
  const exportDir = makeExportDir()
  let g: Ganesha | undefined
  const mounts: MountedCli[] = []
  const runs = new Map<string, Run[]>(CONFIGS.map((c) => [c.name, []]))
  let workers: unknown
  try {
    g = await startGanesha({ exports: [{ path: exportDir }] })
    for (const c of CONFIGS) {
      const opts = [`uid=${SERVER_ID},gid=${SERVER_ID},${portOptions(g)},stats`, ...c.opts].join(',')
      mounts.push(await mountCli(nfsSource(exportDir), makeMountpoint(), ['-o', opts]))
    }
    workers = (await daemonStats(mounts[0]!)).workers
    for (let round = 0; round < rounds; round++) {
      const order = CONFIGS.map((c, i) => [c, mounts[i]!] as const)
      if (round % 2 === 1) order.reverse()
      for (const [c, m] of order) {
        const r = await once(m, exportDir, `wb-${round}-${c.opts.length}.dat`)
        runs.get(c.name)!.push(r)
        progress(`${c.name} (${round + 1}/${rounds}): ${r.mibs.toFixed(1)} MiB/s`)
      }
    }
  } finally {
    for (const m of mounts.reverse()) {
      const u = await m.unmount().catch((err: Error) => ({ code: -1, stderr: err.message }))
      if (u.code !== 0) progress(`unmount of ${m.mountpoint}: exit ${u.code}: ${u.stderr.trim().split('\n').slice(-2).join(' | ')}`)
    }
    await g?.stop().catch((err: Error) => progress(`stopping nfs-ganesha: ${err.message.split('\n')[0]}`))
  }
  const base = median(runs.get(CONFIGS[0]!.name)!.map((r) => r.mibs))
  const rows = CONFIGS.map((c) => {
    const rs = runs.get(c.name)!
    const mibs = rs.map((r) => r.mibs)
    const sum = (f: (r: Run) => number): number => rs.reduce((a, r) => a + f(r), 0)
    const writes = sum((r) => r.writes)
    return [
      c.name, median(mibs).toFixed(0), `${Math.min(...mibs).toFixed(0)}-${Math.max(...mibs).toFixed(0)}`, mibs.map((x) => x.toFixed(0)).join(' '),
      `${(median(mibs) / base).toFixed(2)}x`, (sum((r) => r.cpu) / (sum((r) => r.bytes) / 1024 ** 3)).toFixed(2),
      (writes / rs.length).toFixed(0), writes > 0 ? `${(sum((r) => r.written) / writes / 1024).toFixed(0)} KiB` : '-', (sum((r) => r.commits) / rs.length).toFixed(1),
    ]
  })
  process.stdout.write(`\nseq write ${sizeMiB} MiB (1 MiB psync, buffered, end_fsync=1) as uid ${APP_ID}, ${rounds} rounds alternating; ` +
    `mounts -o uid=${SERVER_ID},gid=${SERVER_ID},stats + the options below (workers default: ${String(workers)})\n`)
  printTable('kernel front end: writeback cache off vs on (MiB/s; CPU: daemon s/GiB; WRITEs, COMMITs: per run)',
    ['mount', 'median MiB/s', 'range', 'runs', 'vs first', 'CPU s/GiB', 'WRITEs', 'bytes/WRITE', 'COMMITs'], rows)
}

await main().catch((err: Error) => {
  process.stderr.write(`writeback failed: ${err.stack ?? err.message}\n`)
  process.exitCode = 1
})

// Quick side by side of the two FUSE front ends on the in-memory filesystem: the fuse-native /
// libfuse 2 ceiling (start.ts) vs KernelMount (start-kernel.ts), same loads, same run, one round
// in alternating order. With --readahead it instead reads one file through KernelMount at several
// bdi read_ahead_kb windows (the 512 KiB default of readahead-window.ts was measured with 128 KiB
// READs; KernelMount's reads are up to 1 MiB).
//
//   npx tsx bench/ceiling/compare-kernel.ts [--size MiB] [--readahead]     (as root)
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readAheadFile } from '../../src/fuse/readahead-window.js'
import { runFio, requireFio } from '../lib/fio.js'
import { runMetaLoad } from '../lib/meta.js'
import { startCeiling, type Ceiling } from './start.js'
import { startKernelCeiling } from './start-kernel.js'

const argv = process.argv.slice(2)
const sizeMiB = Number(argv[argv.indexOf('--size') + 1] ?? 256) || 256
requireFio()
const work = mkdtempSync(join(tmpdir(), 'ceiling-kernel-'))
const mp = join(work, 'mnt')
const jobs = join(work, 'jobs')
mkdirSync(mp)
mkdirSync(jobs)

const job = (name: string, body: string): string => {
  const p = join(jobs, `${name}.fio`)
  writeFileSync(p, `[global]\nfilename=${mp}/data\nsize=${sizeMiB}M\nioengine=psync\n\n[${name}]\n${body}\n`)
  return p
}
const loads = {
  seqwrite: job('seqwrite', 'rw=write\nbs=1M\nend_fsync=1'),
  seqread: job('seqread', 'rw=read\nbs=1M\ninvalidate=1'),
  randread16: job('randread16', 'rw=randread\nbs=4k\ndirect=1\nnumjobs=16\ntime_based=1\nruntime=3\ngroup_reporting=1'),
  qd1: job('qd1', 'rw=randread\nbs=4k\ndirect=1\ntime_based=1\nruntime=3'),
}
const cpu = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}

async function measure(c: Ceiling): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const [name, file] of Object.entries(loads)) {
    const c0 = cpu(c.pid)
    const r = await runFio(file, { uid: 0, cwd: mp, env: {}, timeoutMs: 120_000 })
    if (r.error) throw new Error(`${name}: ${r.error}`)
    const perOp = ((cpu(c.pid) - c0) * 1e6) / (name.startsWith('seq') ? r.bytes / 2 ** 20 : r.ios)
    out[name] = name.startsWith('seq') ? `${r.mibs.toFixed(0)} MiB/s (${perOp.toFixed(0)} µs CPU/MiB)` : `${r.iops.toFixed(0)} IOPS (${perOp.toFixed(1)} µs CPU/op)`
  }
  const dir = join(mp, 'meta')
  mkdirSync(dir)
  const created = await runMetaLoad({ load: 'create', dir, prefix: 'f', count: 1000 }, 0, 60_000)
  const stats = await runMetaLoad({ load: 'stat', dir, prefix: 'f', count: 1000, seconds: 2 }, 0, 60_000)
  out.create = `${(created.ops / created.seconds).toFixed(0)}/s`
  out.stat = `${(stats.ops / stats.seconds).toFixed(0)}/s`
  return out
}

try {
  if (argv.includes('--readahead')) {
    const c = await startKernelCeiling(mp)
    try {
      await runFio(loads.seqwrite, { uid: 0, cwd: mp, env: {}, timeoutMs: 120_000 })
      const ra = await readAheadFile(mp)
      for (const kib of [512, 128, 1024, 2048, 128, 512, 2048, 1024, 128, 512]) {
        writeFileSync(ra, `${kib}\n`)
        const r = await runFio(loads.seqread, { uid: 0, cwd: mp, env: {}, timeoutMs: 120_000 })
        console.log(`read_ahead_kb ${kib}: ${r.mibs.toFixed(0)} MiB/s`)
      }
    } finally {
      await c.stop()
    }
  } else {
    const results: Record<string, Record<string, string>> = {}
    for (const [name, start] of [['ceiling (fuse-native)', startCeiling], ['KernelMount', startKernelCeiling]] as const) {
      const c = await start(mp, 0)
      try {
        results[name] = await measure(c)
      } finally {
        await c.stop()
      }
    }
    console.table(results)
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}

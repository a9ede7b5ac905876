// The columns of bench/compare.ts: each knows how to run a load where it lives and returns one
// Sample, with the CPU each process used meanwhile and, where there is an NFS client to ask, the
// RPCs it sent.
//
//   file-system columns  export dir, FUSE ceiling, mapnfs inline/pooled: fio and the metadata
//                        script, as uid APP_ID, on a directory (the export itself or a mount)
//   engine columns       the same loads as NFS calls on src/engine, no FUSE (bench/engine)
//   nfs-cp               sequential copies only
//
// Files each column uses, under its root (a mapnfs mount's root is the export dir itself):
//   seq.dat         SEQ_SIZE bytes: seq read, and the random reads (prepared once, server cache warm)
//   delay.dat       the delayed reads' file
//   meta/f0..fN     the stat and ls -l entries (prepared once)
//   w-COL-PHASE-REP.dat, c-COL-REP/   what a seq write or create makes (removed afterwards)
import { chmodSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { daemonStats, type DaemonStats, type MountedCli } from '../../test/fixtures/mount.js'
import { memoryMiB } from '../../test/fixtures/proc.js'
import type { EngineDriver, EngineLoad } from '../engine/start.js'
import { cpuSince, cpuSnapshot, type CpuUse } from '../lib/cpu.js'
import { runFio } from '../lib/fio.js'
import { runMetaLoad } from '../lib/meta.js'
import { nfsCp } from '../lib/nfs-cp.js'
import { APP_ID, ENGINE_RAND_IN_FLIGHT, ENGINE_SEQ_IN_FLIGHT, type ColumnKey, type LoadKey, type Params, type Phase } from './config.js'

const MiB = 1024 * 1024
/** No load here takes a minute; a stuck one is stopped and reported. */
const LOAD_TIMEOUT_MS = 180_000
/** Cap of a sequential run that is meant to finish by size (fio's runtime, the engine's deadline). */
const NO_CAP_SECONDS = 600
const jobs = new URL('./fio/', import.meta.url).pathname

export interface Sample {
  /** In the load's unit (config.ts LOADS). */
  value: number
  bytes: number
  ops: number
  seconds: number
  cpu: CpuUse
  /** RPCs sent during the load (mapnfs: its stats line; engine: its connection counters). */
  calls?: number
  byProc?: Record<string, number>
}

type Measured = Omit<Sample, 'cpu'>

export interface Column {
  key: ColumnKey
  /** Set when the column cannot run here: its cells show n/a and this reason. */
  unavailable?: string
  /** The process that serves the loads (FUSE daemon, engine driver), for CPU and memory. */
  pid?: number
  run(load: LoadKey, phase: Phase, rep: number): Promise<Sample>
  stop(): Promise<void>
}

/** Shared by every column: sizes, the export, the processes whose CPU each sample reads. */
export interface Env {
  p: Params
  exportDir: string
  /** Other processes to watch during every load (ganesha, the delay proxy). */
  watch: Record<string, number | undefined>
}

export function unavailable(key: ColumnKey, why: string): Column {
  return {
    key,
    unavailable: why,
    run: () => Promise.reject(new Error(`${key} is not available: ${why}`)),
    stop: async () => undefined,
  }
}

/** Peak RSS (VmHWM) of a column's process so far, MiB; undefined when it has none or it is gone. */
export function peakRss(c: Column): number | undefined {
  try {
    return c.pid === undefined ? undefined : memoryMiB(c.pid).peak
  } catch {
    return undefined
  }
}

async function measure(env: Env, pid: number | undefined, body: () => Promise<Measured>): Promise<Sample> {
  const before = cpuSnapshot({ ...env.watch, daemon: pid })
  const m = await body()
  return { ...m, cpu: cpuSince(before) }
}

function seqSizes(env: Env, load: LoadKey, phase: Phase): { size: number; seconds: number } {
  const p = env.p
  if (phase === 'main') return { size: p.seqSize, seconds: NO_CAP_SECONDS }
  return { size: load === 'seqWrite' ? p.delayWriteSize : p.delayReadSize, seconds: p.delaySeconds }
}

const rate = (bytes: number, seconds: number): number => (seconds > 0 ? bytes / MiB / seconds : 0)

function freshDir(path: string): string {
  mkdirSync(path)
  chmodSync(path, 0o777)
  return path
}

// ---- file-system columns -------------------------------------------------------------------

export interface Place {
  /** Where the loads run: the export dir, or a mount point. */
  root: string
  /** Where this process makes and removes the load's files: the export dir behind an NFS mount, else root. */
  backing: string
  /** Drop the file's page cache before a sequential read (FUSE mounts: the client cache is to be cold). */
  invalidate: boolean
  /**
   * Leave the create load's files in place: the ceiling's live in its memory and go with its
   * unmount, and 1000 FUSE unlinks are not worth the wait.
   */
  keepCreated: boolean
}

async function fio(job: string, env: Record<string, string>): Promise<Measured> {
  const r = await runFio(join(jobs, job), { uid: APP_ID, cwd: '/', env, timeoutMs: LOAD_TIMEOUT_MS })
  if (r.error !== undefined) throw new Error(`${job}: ${r.error}`)
  return { value: job.startsWith('seq') ? r.mibs : r.iops, bytes: r.bytes, ops: r.ios, seconds: r.seconds }
}

async function fsLoad(env: Env, key: ColumnKey, at: Place, load: LoadKey, phase: Phase, rep: number): Promise<Measured> {
  const p = env.p
  const meta = { dir: join(at.root, 'meta'), prefix: 'f', count: p.lsEntries }
  const ops = (r: { ops: number; seconds: number }): Measured => ({ value: r.ops / r.seconds, bytes: 0, ops: r.ops, seconds: r.seconds })
  switch (load) {
    case 'seqWrite': {
      const { size, seconds } = seqSizes(env, load, phase)
      const name = `w-${key}-${phase}-${rep}.dat`
      try {
        return await fio('seq_write_1t.fio', { MAPNFS_FILE: join(at.root, name), MAPNFS_SIZE: String(size), MAPNFS_RUNTIME: String(seconds) })
      } finally {
        rmSync(join(at.backing, name), { force: true })
      }
    }
    case 'seqRead': {
      const { size, seconds } = seqSizes(env, load, phase)
      const file = join(at.root, phase === 'main' ? 'seq.dat' : 'delay.dat')
      return fio('seq_read_1t.fio', { MAPNFS_FILE: file, MAPNFS_SIZE: String(size), MAPNFS_RUNTIME: String(seconds), MAPNFS_INVALIDATE: at.invalidate ? '1' : '0' })
    }
    case 'rand16':
    case 'randAio':
      return fio(load === 'rand16' ? 'rand_read_4k_16t_direct.fio' : 'rand_read_4k_4t_direct.fio', {
        MAPNFS_FILE: join(at.root, 'seq.dat'), MAPNFS_SIZE: String(p.seqSize), MAPNFS_RUNTIME: String(p.randSeconds),
      })
    case 'stat':
      return ops(await runMetaLoad({ load: 'stat', ...meta, seconds: p.statSeconds }, APP_ID, LOAD_TIMEOUT_MS))
    case 'create': {
      const dir = `c-${key}-${rep}`
      freshDir(join(at.backing, dir))
      try {
        return ops(await runMetaLoad({ load: 'create', dir: join(at.root, dir), prefix: 'n', count: p.creates }, APP_ID, LOAD_TIMEOUT_MS))
      } finally {
        if (!at.keepCreated) rmSync(join(at.backing, dir), { recursive: true, force: true })
      }
    }
    case 'ls':
      return ops(await runMetaLoad({ load: 'ls', dir: meta.dir }, APP_ID, LOAD_TIMEOUT_MS))
  }
}

/** The export directory itself, or the FUSE ceiling (PID: its daemon). */
export function fsColumn(env: Env, key: ColumnKey, at: Place, pid: number | undefined, stop: () => Promise<void>): Column {
  return { key, pid, run: (load, phase, rep) => measure(env, pid, () => fsLoad(env, key, at, load, phase, rep)), stop }
}

function callsSince(a: DaemonStats, b: DaemonStats): { calls: number; byProc: Record<string, number> } {
  const byProc: Record<string, number> = {}
  for (const [proc, n] of Object.entries(b.byProc)) {
    const d = n - (a.byProc[proc] ?? 0)
    if (d > 0) byProc[proc] = d
  }
  return { calls: b.calls - a.calls, byProc }
}

/** A mapnfs mount (started with -o stats): its stats line (SIGUSR2) is read before and after each load. */
export function mapnfsColumn(env: Env, key: ColumnKey, m: MountedCli): Column {
  const at: Place = { root: m.mountpoint, backing: env.exportDir, invalidate: true, keepCreated: false }
  return {
    key,
    pid: m.pid,
    async run(load, phase, rep) {
      const before = await daemonStats(m)
      const s = await measure(env, m.pid, () => fsLoad(env, key, at, load, phase, rep))
      return { ...s, ...callsSince(before, await daemonStats(m)) }
    },
    async stop() {
      const u = await m.unmount()
      if (u.code !== 0) throw new Error(`${key}: mapnfs exited ${u.code} after SIGTERM: ${u.stderr.trim().split('\n').slice(-2).join(' | ')}`)
    },
  }
}

// ---- engine and nfs-cp ---------------------------------------------------------------------

function engineLoad(env: Env, key: ColumnKey, load: LoadKey, phase: Phase, rep: number): EngineLoad {
  const p = env.p
  const { size, seconds } = seqSizes(env, load, phase)
  switch (load) {
    case 'seqWrite':
      return { load, dir: '', name: `w-${key}-${phase}-${rep}.dat`, size, seconds, inFlight: ENGINE_SEQ_IN_FLIGHT }
    case 'seqRead':
      return { load, path: phase === 'main' ? 'seq.dat' : 'delay.dat', size, seconds, inFlight: ENGINE_SEQ_IN_FLIGHT }
    case 'rand16':
    case 'randAio':
      return { load: 'randRead', path: 'seq.dat', size: p.seqSize, seconds: p.randSeconds, inFlight: ENGINE_RAND_IN_FLIGHT[load]! }
    case 'stat':
      return { load, dir: 'meta', prefix: 'f', count: p.lsEntries, seconds: p.statSeconds }
    case 'create':
      return { load, dir: `c-${key}-${rep}`, prefix: 'n', count: p.creates }
    case 'ls':
      return { load: 'readdir', dir: 'meta' }
  }
}

/** mapnfs's engine without FUSE (bench/engine/driver.ts), against the same export. */
export function engineColumn(env: Env, key: ColumnKey, d: EngineDriver): Column {
  return {
    key,
    pid: d.pid,
    run: (load, phase, rep) => measure(env, d.pid, async () => {
      const l = engineLoad(env, key, load, phase, rep)
      if (l.load === 'create') freshDir(join(env.exportDir, l.dir))
      try {
        const r = await d.run(l)
        const seq = load === 'seqWrite' || load === 'seqRead'
        const value = seq ? rate(r.bytes, r.seconds) : r.ops / r.seconds
        return { value, bytes: r.bytes, ops: r.ops, seconds: r.seconds, calls: r.calls }
      } finally {
        if (l.load === 'seqWrite') rmSync(join(env.exportDir, l.name), { force: true })
        if (l.load === 'create') rmSync(join(env.exportDir, l.dir), { recursive: true, force: true })
      }
    }),
    stop: () => d.stop(),
  }
}

export interface NfsCpPlace {
  /** nfs:// URL of NAME in the export (ports, uid and gid in the query). */
  url(name: string): string
  /** The write sources (main and delayed sizes, on tmpfs), and where reads land. */
  src: string
  delaySrc: string
  out: string
}

/** libnfs's nfs-cp, sequential loads only; MiB/s from its wall-clock time. */
export function nfsCpColumn(env: Env, at: NfsCpPlace): Column {
  return {
    key: 'nfscp',
    run: (load, phase, rep) => measure(env, undefined, async () => {
      if (load === 'seqWrite') {
        const name = `w-nfscp-${phase}-${rep}.dat`
        const size = phase === 'main' ? env.p.seqSize : env.p.delayCpSize
        try {
          const seconds = await nfsCp(phase === 'main' ? at.src : at.delaySrc, at.url(name), LOAD_TIMEOUT_MS)
          return { value: rate(size, seconds), bytes: size, ops: size / MiB, seconds }
        } finally {
          rmSync(join(env.exportDir, name), { force: true })
        }
      }
      if (load === 'seqRead') {
        const size = phase === 'main' ? env.p.seqSize : env.p.delayReadSize
        try {
          const seconds = await nfsCp(at.url(phase === 'main' ? 'seq.dat' : 'delay.dat'), at.out, LOAD_TIMEOUT_MS)
          return { value: rate(size, seconds), bytes: size, ops: size / MiB, seconds }
        } finally {
          rmSync(at.out, { force: true })
        }
      }
      throw new Error(`nfs-cp does not run ${load}`)
    }),
    stop: async () => undefined,
  }
}

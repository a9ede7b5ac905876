// Where the CPU went during one load, from /proc before and after it: each watched process's
// utime+stime, its busiest thread, the load generators (fio, nfs-cp, the metadata script: our own
// children that exited meanwhile, read from cutime+cstime of /proc/self/stat) and the whole
// machine (/proc/stat), and the busiest other processes (kernel threads, other tenants). On 2 cores
// shared by the daemon, the server and the load generator, this is what says which one is the
// bottleneck (a thread at ~100 % is), and whether something else took the CPU meanwhile.
import { readdirSync, readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'
import { cpuSeconds, ticksPerSecond } from '../../test/fixtures/proc.js'

export interface CpuSnapshot {
  at: number
  watch: Record<string, number>
  /** Per watched label: CPU seconds of the process (exited threads included). */
  process: Map<string, number>
  /** Per watched label: per thread id, [name, cpu seconds]. */
  threads: Map<string, Map<number, [string, number]>>
  children: number
  /** Every other process: pid -> [name, cpu seconds]. */
  others: Map<number, [string, number]>
  busy: number
  total: number
}

export interface CpuUse {
  /** Wall-clock seconds between the snapshots. */
  seconds: number
  /** Per watched label: CPU seconds of the whole process. */
  process: Record<string, number>
  /** Per watched label: its busiest thread ('main' is the thread whose id is the pid) and its CPU seconds. */
  topThread: Record<string, { name: string; seconds: number }>
  /** CPU seconds of our children that exited meanwhile (the load generators). */
  loadgen: number
  /** Busy share of all cores, 0..1. */
  machine: number
  /**
   * CPU seconds of everything else: kernel threads (writeback, softirq) and other tenants of the
   * machine. High while nothing of ours runs: the numbers were measured on a busy machine.
   */
  rest: number
  /** The processes that took most of `rest` (alive at both snapshots), busiest first. */
  others: { name: string; seconds: number }[]
}

/** How many of the busiest other processes a CpuUse names. */
const OTHERS = 2

/** Fields 3.. of a /proc stat line (after the parenthesised name), and the name. */
function statFields(path: string): { name: string; f: string[] } {
  const s = readFileSync(path, 'utf8')
  const close = s.lastIndexOf(')')
  return { name: s.slice(s.indexOf('(') + 1, close), f: s.slice(close + 2).split(' ') }
}

function threadsOf(pid: number): Map<number, [string, number]> {
  const out = new Map<number, [string, number]>()
  let tids: string[]
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  const hz = ticksPerSecond()
  for (const t of tids) {
    try {
      const { name, f } = statFields(`/proc/${pid}/task/${t}/stat`)
      // f[11], f[12]: utime and stime (fields 14 and 15).
      out.set(Number(t), [Number(t) === pid ? 'main' : name, (Number(f[11]) + Number(f[12])) / hz])
    } catch {
      // The thread ended between readdir and read.
    }
  }
  return out
}

/** Every process but those in SKIP: pid -> [name, utime + stime seconds]. */
function processes(skip: Set<number>): Map<number, [string, number]> {
  const out = new Map<number, [string, number]>()
  const hz = ticksPerSecond()
  for (const e of readdirSync('/proc')) {
    const pid = Number(e)
    if (!Number.isInteger(pid) || skip.has(pid)) continue
    try {
      const { name, f } = statFields(`/proc/${pid}/stat`)
      out.set(pid, [name, (Number(f[11]) + Number(f[12])) / hz])
    } catch {
      // It exited between readdir and read.
    }
  }
  return out
}

function machine(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number)
  const total = cpu.reduce((a, b) => a + b, 0)
  // idle (4th) and iowait (5th) are not busy.
  return { busy: total - cpu[3]! - cpu[4]!, total }
}

/** Reads the CPU counters of the processes in WATCH (label -> pid; undefined ones are skipped). */
export function cpuSnapshot(watch: Record<string, number | undefined>): CpuSnapshot {
  const pids: Record<string, number> = {}
  const perProcess = new Map<string, number>()
  const threads = new Map<string, Map<number, [string, number]>>()
  for (const [label, pid] of Object.entries(watch)) {
    if (pid === undefined) continue
    pids[label] = pid
    perProcess.set(label, cpuSeconds(pid))
    threads.set(label, threadsOf(pid))
  }
  const { f } = statFields('/proc/self/stat')
  const others = processes(new Set([process.pid, ...Object.values(pids)]))
  // f[13], f[14]: cutime and cstime (fields 16 and 17).
  return { at: performance.now(), watch: pids, process: perProcess, threads, children: (Number(f[13]) + Number(f[14])) / ticksPerSecond(), others, ...machine() }
}

/** What was used since BEFORE, by the same processes. */
export function cpuSince(before: CpuSnapshot): CpuUse {
  const after = cpuSnapshot(before.watch)
  const use: CpuUse = {
    seconds: (after.at - before.at) / 1000,
    process: {},
    topThread: {},
    loadgen: after.children - before.children,
    machine: after.total > before.total ? (after.busy - before.busy) / (after.total - before.total) : 0,
    rest: 0,
    others: [],
  }
  for (const [label, ts] of after.threads) {
    const was = before.threads.get(label)!
    let top = { name: '-', seconds: 0 }
    for (const [tid, [name, s]] of ts) {
      const d = s - (was.get(tid)?.[1] ?? 0)
      if (d > top.seconds) top = { name, seconds: d }
    }
    use.process[label] = after.process.get(label)! - before.process.get(label)!
    use.topThread[label] = top
  }
  const ours = Object.values(use.process).reduce((a, b) => a + b, use.loadgen)
  use.rest = Math.max(0, use.machine * cpus().length * use.seconds - ours)
  const others: { name: string; seconds: number }[] = []
  for (const [pid, [name, s]] of after.others) {
    const was = before.others.get(pid)
    if (was !== undefined && s > was[1]) others.push({ name, seconds: s - was[1] })
  }
  use.others = others.sort((a, b) => b.seconds - a.seconds).slice(0, OTHERS)
  return use
}

/** Busy share of all cores over the next MS milliseconds (nothing of ours running: other tenants). */
export async function machineBusyOver(ms: number): Promise<number> {
  const a = machine()
  await new Promise((resolve) => setTimeout(resolve, ms))
  const b = machine()
  return b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0
}

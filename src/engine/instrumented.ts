// Per-procedure counters of what the file system asked an engine for: calls, errors by errno,
// latency, bytes. Measured here, above both engines, so the inline and the pooled engine count
// the same way and the main thread owns the numbers (a worker's counters would need a crossing
// to read). The stats line and the Prometheus endpoint both read EngineMetrics.snapshot().
import { constants as osConstants } from 'node:os'
import {
  NFSPROC3_ACCESS, NFSPROC3_COMMIT, NFSPROC3_CREATE, NFSPROC3_FSINFO, NFSPROC3_FSSTAT, NFSPROC3_GETATTR,
  NFSPROC3_LINK, NFSPROC3_LOOKUP, NFSPROC3_MKDIR, NFSPROC3_MKNOD, NFSPROC3_PATHCONF, NFSPROC3_READ,
  NFSPROC3_READDIRPLUS, NFSPROC3_READLINK, NFSPROC3_REMOVE, NFSPROC3_RENAME, NFSPROC3_RMDIR, NFSPROC3_SETATTR,
  NFSPROC3_SYMLINK, NFSPROC3_WRITE,
} from '../xdr/constants.js'
import type { RpcConnectionStats } from '../rpc/index.js'
import type { Engine, Nfs3Ops } from './engine.js'

/** Engine method → NFSv3 procedure number (RFC 1813). */
export const PROCEDURES: Readonly<Record<keyof Nfs3Ops, number>> = {
  getattr: NFSPROC3_GETATTR, setattr: NFSPROC3_SETATTR, lookup: NFSPROC3_LOOKUP, access: NFSPROC3_ACCESS,
  readlink: NFSPROC3_READLINK, read: NFSPROC3_READ, write: NFSPROC3_WRITE, create: NFSPROC3_CREATE,
  mkdir: NFSPROC3_MKDIR, symlink: NFSPROC3_SYMLINK, mknod: NFSPROC3_MKNOD, remove: NFSPROC3_REMOVE,
  rmdir: NFSPROC3_RMDIR, rename: NFSPROC3_RENAME, link: NFSPROC3_LINK, readdirplus: NFSPROC3_READDIRPLUS,
  fsstat: NFSPROC3_FSSTAT, fsinfo: NFSPROC3_FSINFO, pathconf: NFSPROC3_PATHCONF, commit: NFSPROC3_COMMIT,
}

/** Procedure number → upper-case name as RFC 1813 spells it (metric labels). */
export const PROCEDURE_NAMES: readonly string[] = (() => {
  const names: string[] = []
  for (const [method, proc] of Object.entries(PROCEDURES)) names[proc] = method.toUpperCase()
  return names
})()

/**
 * Upper bounds (seconds) of the latency buckets: from a loopback GETATTR (~100 us) to a hard
 * mount's call waiting out a server restart.
 */
export const LATENCY_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

const PROC_SLOTS = 22
const ERRNO_NAMES: Record<number, string> = Object.fromEntries(Object.entries(osConstants.errno).map(([name, n]) => [n, name]))
const EIO = 5

/** errno number → its name (ENOENT); unknown numbers as "E<n>". */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `E${errno}`
}

export interface ProcLatency {
  /** Calls finished per bucket, NOT cumulative; the last slot counts calls above the largest bound. */
  buckets: number[]
  sumSeconds: number
  count: number
}

export interface EngineMetricsSnapshot {
  /** Calls started, by procedure number. */
  byProc: Record<string, number>
  /** Calls failed, by procedure number then errno name. */
  errorsByProc: Record<string, Record<string, number>>
  /** Calls failed, by errno name, all procedures together. */
  errors: Record<string, number>
  latency: Record<string, ProcLatency>
  /** READ data received and WRITE data the server acknowledged. */
  bytesRead: number
  bytesWritten: number
  /** Calls started and not finished. */
  pending: number
}

export class EngineMetrics {
  readonly #calls = new Float64Array(PROC_SLOTS)
  readonly #buckets = new Float64Array(PROC_SLOTS * (LATENCY_BUCKETS.length + 1))
  readonly #sums = new Float64Array(PROC_SLOTS)
  readonly #done = new Float64Array(PROC_SLOTS)
  readonly #errors = new Map<number, Map<number, number>>()
  #bytesRead = 0
  #bytesWritten = 0
  #pending = 0

  started(proc: number): void {
    this.#calls[proc]!++
    this.#pending++
  }

  finished(proc: number, seconds: number, errno: number | null): void {
    this.#pending--
    this.#done[proc]!++
    this.#sums[proc]! += seconds
    let b = 0
    while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]!) b++
    this.#buckets[proc * (LATENCY_BUCKETS.length + 1) + b]!++
    if (errno !== null) {
      let byErrno = this.#errors.get(proc)
      if (byErrno === undefined) this.#errors.set(proc, (byErrno = new Map()))
      byErrno.set(errno, (byErrno.get(errno) ?? 0) + 1)
    }
  }

  addRead(bytes: number): void {
    this.#bytesRead += bytes
  }

  addWritten(bytes: number): void {
    this.#bytesWritten += bytes
  }

  snapshot(): EngineMetricsSnapshot {
    const width = LATENCY_BUCKETS.length + 1
    const out: EngineMetricsSnapshot = { byProc: {}, errorsByProc: {}, errors: {}, latency: {}, bytesRead: this.#bytesRead, bytesWritten: this.#bytesWritten, pending: this.#pending }
    for (let p = 0; p < PROC_SLOTS; p++) {
      if (this.#calls[p] === 0) continue
      out.byProc[p] = this.#calls[p]!
      out.latency[p] = { buckets: Array.from(this.#buckets.subarray(p * width, (p + 1) * width)), sumSeconds: this.#sums[p]!, count: this.#done[p]! }
    }
    for (const [proc, byErrno] of this.#errors) {
      const named: Record<string, number> = {}
      for (const [errno, n] of byErrno) {
        const name = errnoName(errno)
        named[name] = n
        out.errors[name] = (out.errors[name] ?? 0) + n
      }
      out.errorsByProc[proc] = named
    }
    return out
  }
}

/**
 * An Engine that counts every NFS call into `metrics` and otherwise is `inner`. Errors pass
 * through unchanged (the same class and errno reach the file system).
 */
export function instrumentEngine(inner: Engine, metrics: EngineMetrics): Engine {
  const out: Engine = {
    allocWriteBuffer: (n) => inner.allocWriteBuffer(n),
    releaseWriteBuffer: (b) => inner.releaseWriteBuffer(b),
    setHard: (on) => inner.setHard(on),
    stats: (): RpcConnectionStats => inner.stats(),
    close: () => inner.close(),
  } as Engine
  for (const [method, proc] of Object.entries(PROCEDURES) as [keyof Nfs3Ops, number][]) {
    const call = (inner[method] as (...a: unknown[]) => Promise<{ count?: number; data?: Buffer }>).bind(inner)
    const counted = (...args: unknown[]): Promise<unknown> => {
      metrics.started(proc)
      const t0 = performance.now()
      let pending: Promise<{ count?: number; data?: Buffer }>
      try {
        pending = call(...args)
      } catch (err) {
        pending = Promise.reject(err)
      }
      return pending.then((res) => {
        metrics.finished(proc, (performance.now() - t0) / 1000, null)
        if (proc === NFSPROC3_READ) metrics.addRead(res.data?.length ?? 0)
        else if (proc === NFSPROC3_WRITE) metrics.addWritten(res.count ?? 0)
        return res
      }, (err: unknown) => {
        const errno = (err as { errno?: unknown }).errno
        metrics.finished(proc, (performance.now() - t0) / 1000, typeof errno === 'number' && errno > 0 ? errno : EIO)
        throw err
      })
    }
    ;(out as unknown as Record<string, unknown>)[method] = counted
  }
  return out
}

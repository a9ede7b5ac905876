// One mount's counters, gathered from the engine's transport, the per-procedure metrics and the
// file system. `mapnfs mount -o stats` prints them as one line and `mapnfs serve` exports the very
// same snapshot to Prometheus, so the two can never disagree about what they count.
import type { EngineMetricsSnapshot, ProcLatency } from '../engine/index.js'
import type { RpcConnectionStats } from '../rpc/index.js'
import type { FilesystemStats } from '../fuse/index.js'
import type { LockStats } from '../locks/index.js'

export interface MountShape {
  rsize: number
  wsize: number
  workers: number
  nconnect: number
}

export interface MountStats extends MountShape {
  /** RPCs sent and replies matched (transport). */
  calls: number
  replies: number
  /** NFS calls the file system made, by procedure number. */
  byProc: Record<string, number>
  /** RPCs waiting for a reply now, and the most at once. */
  inFlight: number
  maxInFlight: number
  retransmits: number
  reconnects: number
  majorTimeouts: number
  rewrittenChunks: number
  staleRetries: number
  uncommittedBytes: number
  dirtyBytes: number
  /** READ data received, WRITE data acknowledged by the server. */
  bytesRead: number
  bytesWritten: number
  /** Failed NFS calls by errno name; errorsByProc splits them by procedure number. */
  errors: Record<string, number>
  errorsByProc: Record<string, Record<string, number>>
  /** Call latency by procedure number (not in the stats line: the metrics endpoint has it). */
  latency: Record<string, ProcLatency>
  /** Locks taken on the server (NLM); null when the mount keeps them local or the server has no lock manager. */
  locks: LockStats | null
}

export function mountStats(rpc: RpcConnectionStats, m: EngineMetricsSnapshot, fs: FilesystemStats, shape: MountShape, locks: LockStats | null = null): MountStats {
  return {
    calls: rpc.calls,
    replies: rpc.replies,
    byProc: m.byProc,
    inFlight: rpc.inFlight,
    maxInFlight: rpc.maxInFlight,
    retransmits: rpc.retransmits,
    reconnects: rpc.reconnects,
    majorTimeouts: rpc.majorTimeouts,
    rewrittenChunks: fs.rewrittenChunks,
    staleRetries: fs.staleRetries,
    uncommittedBytes: fs.uncommittedBytes ?? 0,
    dirtyBytes: fs.dirtyBytes ?? 0,
    bytesRead: m.bytesRead,
    bytesWritten: m.bytesWritten,
    errors: m.errors,
    errorsByProc: m.errorsByProc,
    latency: m.latency,
    locks,
    ...shape,
  }
}

/** The counters of the stats line: everything but the latency histograms and the errors split by procedure. */
export type StatsFields = Omit<MountStats, 'latency' | 'errorsByProc'>

export function statsFields(s: MountStats): StatsFields {
  const { latency: _latency, errorsByProc: _errorsByProc, ...fields } = s
  return fields
}

export function statsLine(s: MountStats): string {
  return `stats ${JSON.stringify(statsFields(s))}`
}

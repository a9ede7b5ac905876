// The Prometheus endpoint. Every per-volume series is read at scrape time from the same snapshot
// the stats line prints (RunningMount.stats()), so a scrape and a stats line taken at one moment
// agree; the process series (RSS, CPU, heap, event loop) are prom-client's defaults.
import { createServer, type Server } from 'node:http'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { LATENCY_BUCKETS, PROCEDURE_NAMES } from '../engine/index.js'
import type { MountStats } from '../mount/stats.js'

type Labels = Record<string, string>

/** One mount's numbers at scrape time. */
export interface VolumeMetrics {
  /** The labels of its series: `volume`, and more where one volume has several mounts (CSI: `target`). */
  labels: Labels
  mounted: boolean
  /** Callers holding it (Docker: container mounts; CSI: 1 while published). */
  references: number
  /** Counters of the current mount (null while unmounted). */
  stats: MountStats | null
  /** File operations answered with an error: "op errno" -> count, over the daemon's life. */
  opErrors: Map<string, number>
}
interface Sample { value: number; labels: Labels; metricName?: string }
type MetricType = 'counter' | 'gauge' | 'histogram'

/** A prom-client metric whose values are computed when scraped (prom-client's Registry only calls get()). */
class ComputedMetric {
  readonly aggregator = 'sum'
  constructor(readonly name: string, readonly help: string, readonly type: MetricType, readonly read: () => Sample[]) {}

  async get(): Promise<{ name: string; help: string; type: MetricType; values: Sample[]; aggregator: string }> {
    return { name: this.name, help: this.help, type: this.type, values: this.read(), aggregator: this.aggregator }
  }

  reset(): void {}
}

const procName = (proc: string): string => PROCEDURE_NAMES[Number(proc)] ?? `PROC${proc}`

export interface MetricsSource {
  contentType: string
  /** The exposition text, every volume series from one snapshot of the volumes taken now. */
  scrape(): Promise<string>
}

export function metricsSource(volumes: () => VolumeMetrics[]): MetricsSource {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  // Taken once per scrape: each volume's stats() is computed once, and a histogram's count, the
  // call counters and the bytes of one scrape describe the same moment.
  let current: VolumeMetrics[] = []
  const mounted = (): { labels: Labels; s: MountStats }[] => current.flatMap((v) => (v.stats !== null ? [{ labels: v.labels, s: v.stats }] : []))
  const perVolume = (name: string, help: string, type: MetricType, pick: (s: MountStats) => number): void => {
    registry.registerMetric(new ComputedMetric(name, help, type, () => mounted().map(({ labels, s }) => ({ value: pick(s), labels }))) as never)
  }

  registry.registerMetric(new ComputedMetric('mapnfs_volume_mounted', 'Whether the volume is mounted now (1) or not (0).', 'gauge',
    () => current.map((v) => ({ value: v.mounted ? 1 : 0, labels: v.labels }))) as never)
  registry.registerMetric(new ComputedMetric('mapnfs_volume_references', 'Callers (container mounts) holding the volume.', 'gauge',
    () => current.map((v) => ({ value: v.references, labels: v.labels }))) as never)
  registry.registerMetric(new ComputedMetric('mapnfs_nfs_calls_total', 'NFS calls made, by procedure (since the volume was mounted).', 'counter',
    () => mounted().flatMap(({ labels, s }) => Object.entries(s.byProc).map(([p, n]) => ({ value: n, labels: { ...labels, proc: procName(p) } })))) as never)
  registry.registerMetric(new ComputedMetric('mapnfs_nfs_errors_total', 'NFS calls failed, by procedure and errno.', 'counter',
    () => mounted().flatMap(({ labels, s }) => Object.entries(s.errorsByProc).flatMap(([p, byErrno]) =>
      Object.entries(byErrno).map(([errno, n]) => ({ value: n, labels: { ...labels, proc: procName(p), errno } }))))) as never)
  registry.registerMetric(new ComputedMetric('mapnfs_nfs_call_duration_seconds', 'NFS call latency, from the call to its answer (retries included).', 'histogram',
    () => mounted().flatMap(({ labels: volume, s }) => Object.entries(s.latency).flatMap(([p, lat]) => {
      const labels = { ...volume, proc: procName(p) }
      let cumulative = 0
      const buckets = LATENCY_BUCKETS.map((le, i) => {
        cumulative += lat.buckets[i]!
        return { value: cumulative, labels: { ...labels, le: String(le) }, metricName: 'mapnfs_nfs_call_duration_seconds_bucket' }
      })
      return [
        ...buckets,
        { value: lat.count, labels: { ...labels, le: '+Inf' }, metricName: 'mapnfs_nfs_call_duration_seconds_bucket' },
        { value: lat.sumSeconds, labels, metricName: 'mapnfs_nfs_call_duration_seconds_sum' },
        { value: lat.count, labels, metricName: 'mapnfs_nfs_call_duration_seconds_count' },
      ]
    }))) as never)
  registry.registerMetric(new ComputedMetric('mapnfs_fuse_errors_total', 'File operations answered with an error, by operation and errno (since the daemon started).', 'counter',
    () => current.flatMap((v) => [...v.opErrors].map(([key, n]) => {
      const [op, errno] = key.split(' ') as [string, string]
      return { value: n, labels: { ...v.labels, op, errno } }
    }))) as never)
  perVolume('mapnfs_read_bytes_total', 'File data read from the server (READ replies).', 'counter', (s) => s.bytesRead)
  perVolume('mapnfs_written_bytes_total', 'File data the server acknowledged (WRITE replies).', 'counter', (s) => s.bytesWritten)
  perVolume('mapnfs_nfs_calls_in_flight', 'RPCs sent and waiting for a reply.', 'gauge', (s) => s.inFlight)
  perVolume('mapnfs_rpc_retransmits_total', 'RPCs sent again after a minor timeout.', 'counter', (s) => s.retransmits)
  perVolume('mapnfs_rpc_reconnects_total', 'NFS connections opened again after a drop.', 'counter', (s) => s.reconnects)
  perVolume('mapnfs_rpc_major_timeouts_total', 'Calls that waited a whole timeo x (retrans + 1).', 'counter', (s) => s.majorTimeouts)
  perVolume('mapnfs_rewritten_chunks_total', 'Written data sent again because the server restarted before committing it.', 'counter', (s) => s.rewrittenChunks)
  perVolume('mapnfs_stale_retries_total', 'Operations repeated after a stale file handle.', 'counter', (s) => s.staleRetries)
  perVolume('mapnfs_uncommitted_bytes', 'Written data the server holds UNSTABLE, not yet committed.', 'gauge', (s) => s.uncommittedBytes)
  perVolume('mapnfs_dirty_bytes', 'Written by applications, not yet acknowledged by the server.', 'gauge', (s) => s.dirtyBytes)
  perVolume('mapnfs_locks_held', 'Lock ranges held on the server (NLM) now.', 'gauge', (s) => s.locks?.held ?? 0)
  perVolume('mapnfs_locks_granted_total', 'Locks the server granted (at once or after waiting).', 'counter', (s) => s.locks?.granted ?? 0)
  perVolume('mapnfs_locks_blocked_total', 'Lock requests the server queued (F_SETLKW, blocking flock).', 'counter', (s) => s.locks?.blocked ?? 0)
  perVolume('mapnfs_lock_grant_callbacks_total', 'Queued locks granted by the server\'s callback.', 'counter', (s) => s.locks?.grantCallbacks ?? 0)
  perVolume('mapnfs_locks_reclaimed_total', 'Lock ranges taken back after the server restarted.', 'counter', (s) => s.locks?.reclaimed ?? 0)
  perVolume('mapnfs_locks_lost_total', 'Lock ranges a restarted server would not give back.', 'counter', (s) => s.locks?.lost ?? 0)
  return {
    contentType: registry.contentType,
    scrape: () => {
      current = volumes()
      return registry.metrics()
    },
  }
}

/** Serves SOURCE on GET /metrics at HOST:PORT; resolves once listening. */
export async function serveMetrics(source: MetricsSource, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' })
      res.end('mapnfs: metrics are at GET /metrics\n')
      return
    }
    source.scrape().then((text) => {
      res.writeHead(200, { 'Content-Type': source.contentType })
      res.end(text)
    }, (err: unknown) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' })
      res.end(`mapnfs: metrics failed: ${(err as Error).message}\n`)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return server
}

// Runs one fio job file as a local application user and sums what fio reports over its jobs.
// Shared by bench/fio/run.ts and bench/compare.ts.
//
// The job runs as UID/GID with no supplementary groups (`setpriv ... fio --output-format=json JOB`),
// so a mapnfs mount sees that caller. Job files read their parameters from the environment
// (fio expands ${NAME}); the caller passes them in `env`.
import { existsSync } from 'node:fs'
import { runTool, SETPRIV, tail } from './run.js'

export const FIO = '/usr/bin/fio'

export interface FioOptions {
  /** Local user (and group) fio runs as. */
  uid: number
  /** Working directory of fio. */
  cwd: string
  /** Variables the job file expands. */
  env: Record<string, string>
  /** fio is stopped (SIGTERM, then SIGKILL) after this long. */
  timeoutMs: number
}

export interface FioResult {
  /** Summed bandwidth (read + write) over the jobs, MiB/s. */
  mibs: number
  iops: number
  /** Bytes moved (read + write) over the jobs. */
  bytes: number
  /** I/Os done (read + write) over the jobs. */
  ios: number
  /** Longest runtime of a job or group, seconds (fio's own clock; includes end_fsync). */
  seconds: number
  /** Set when fio failed or a job reported an errno; the numbers are then partial or zero. */
  error?: string
}

interface IoStats {
  bw_bytes: number
  iops: number
  io_bytes: number
  total_ios: number
  /** ms; with group_reporting the longest of the group (job_runtime would be their sum). */
  runtime: number
}

interface FioJson {
  jobs?: { error: number; read: IoStats; write: IoStats }[]
}

export function requireFio(): void {
  for (const [bin, pkg] of [[FIO, 'fio'], [SETPRIV, 'util-linux']] as const) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install -y ${pkg}`)
  }
}

/** Runs JOB; resolves with the summed results (never rejects for a failed job: see `error`). */
export async function runFio(job: string, o: FioOptions): Promise<FioResult> {
  const r = await runTool(FIO, ['--output-format=json', job], o)
  const exit = r.code ?? r.signal
  const brace = r.stdout.indexOf('{')
  let parsed: FioJson | undefined
  try {
    parsed = brace >= 0 ? (JSON.parse(r.stdout.slice(brace)) as FioJson) : undefined
  } catch {
    parsed = undefined
  }
  if (parsed?.jobs === undefined || parsed.jobs.length === 0) {
    return { mibs: 0, iops: 0, bytes: 0, ios: 0, seconds: 0, error: `fio exited ${exit}: ${tail(r.stderr || r.stdout, 3)}` }
  }
  const res: FioResult = { mibs: 0, iops: 0, bytes: 0, ios: 0, seconds: 0 }
  const errnos: number[] = []
  for (const j of parsed.jobs) {
    res.mibs += (j.read.bw_bytes + j.write.bw_bytes) / 2 ** 20
    res.iops += j.read.iops + j.write.iops
    res.bytes += j.read.io_bytes + j.write.io_bytes
    res.ios += j.read.total_ios + j.write.total_ios
    res.seconds = Math.max(res.seconds, j.read.runtime / 1000, j.write.runtime / 1000)
    if (j.error !== 0) errnos.push(j.error)
  }
  if (exit !== 0 || errnos.length > 0) res.error = `fio exited ${exit}, job errno ${errnos.join(',') || 0}: ${tail(r.stderr, 2)}`
  return res
}

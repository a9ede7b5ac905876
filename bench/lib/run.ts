// Runs a load generator (fio, nfs-cp, the metadata script) to completion, optionally as a local
// application user, registered in the fixtures' exit-time safety net so that an error or Ctrl-C in
// the orchestrator never leaves one running.
import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { baseEnv, killSync, onExit } from '../../test/fixtures/proc.js'

export const SETPRIV = '/usr/bin/setpriv'

export interface ToolOptions {
  /** Run as this local uid (= gid), no supplementary groups (through setpriv, which execs FILE). */
  uid?: number
  cwd?: string
  env?: Record<string, string>
  /** SIGTERM (then SIGKILL 5 s later) after this long. */
  timeoutMs: number
}

export interface ToolResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Wall-clock seconds from spawn to exit. */
  seconds: number
}

/** Resolves when FILE exits, whatever its exit code; rejects only when it cannot be started. */
export function runTool(file: string, args: readonly string[], o: ToolOptions): Promise<ToolResult> {
  const argv = o.uid === undefined ? [file, ...args] : [SETPRIV, `--reuid=${o.uid}`, `--regid=${o.uid}`, '--clear-groups', file, ...args]
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(argv[0]!, argv.slice(1), { cwd: o.cwd ?? '/', env: baseEnv(o.env), stdio: ['ignore', 'pipe', 'pipe'] })
    const pid = child.pid
    if (pid === undefined) {
      reject(new Error(`could not start ${file}`))
      return
    }
    // setpriv execs FILE: this pid is FILE's.
    const deregister = onExit(() => (killSync(pid) ? `${file} (pid ${pid})` : undefined))
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    const timer = setTimeout(() => {
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), 5000).unref()
    }, o.timeoutMs)
    child.once('error', (e) => { clearTimeout(timer); deregister(); reject(e) })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      deregister()
      resolve({ code, signal, stdout, stderr, seconds: (performance.now() - t0) / 1000 })
    })
  })
}

/** The last N lines of TEXT joined with ' | ' (for one-line error reports). */
export function tail(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ')
}

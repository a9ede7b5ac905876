// Parent side of ./meta-load.ts: runs one metadata load as a local user and returns its count.
import { fileURLToPath } from 'node:url'
import { tsxImport } from './child.js'
import { runTool, tail } from './run.js'

const script = fileURLToPath(new URL('./meta-load.ts', import.meta.url))

export type MetaLoad =
  | { load: 'stat'; dir: string; prefix: string; count: number; seconds: number }
  | { load: 'create'; dir: string; prefix: string; count: number }
  | { load: 'ls'; dir: string }

/** Resolves with the operations done and the seconds they took; rejects when the load fails. */
export async function runMetaLoad(m: MetaLoad, uid: number, timeoutMs: number): Promise<{ ops: number; seconds: number }> {
  const args = m.load === 'ls' ? [m.dir] : m.load === 'create' ? [m.dir, m.prefix, String(m.count)] : [m.dir, m.prefix, String(m.count), String(m.seconds)]
  const r = await runTool(process.execPath, ['--import', tsxImport, script, m.load, ...args], { uid, timeoutMs })
  if (r.code !== 0) throw new Error(`${m.load} ${m.dir} as uid ${uid} exited ${r.code ?? r.signal}: ${tail(r.stderr, 3)}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { ops: number; seconds: number }
}

// Parent side of the no-FUSE engine driver (./driver.ts): one child per engine, kept for the
// whole run so its CPU time can be read per load from its pid.
import type * as EngineIndex from '../../src/engine/index.js'
import { startChild } from '../lib/child.js'
import { importDist } from '../lib/dist.js'
import type { DriverConfig } from './driver.js'
import type { LoadResult } from './loads.js'

export type EngineLoad =
  | { load: 'seqWrite'; dir: string; name: string; size: number; seconds: number; inFlight: number }
  | { load: 'seqRead'; path: string; size: number; seconds: number; inFlight: number }
  | { load: 'randRead'; path: string; size: number; seconds: number; inFlight: number }
  | { load: 'stat'; dir: string; prefix: string; count: number; seconds: number }
  | { load: 'create'; dir: string; prefix: string; count: number }
  | { load: 'readdir'; dir: string }
  | { load: 'ping'; count: number }

export interface EngineDriver {
  pid: number
  rsize: number
  wsize: number
  run(load: EngineLoad): Promise<LoadResult>
  stop(): Promise<void>
}

/** Whether the compiled src/engine exports a PooledEngine (issue 7 item 1). */
export async function pooledEngineExported(): Promise<boolean> {
  return 'PooledEngine' in await importDist<typeof EngineIndex>('engine/index.js')
}

/** Starts the driver; resolves once it has mounted the export and opened its engine. */
export async function startEngine(config: DriverConfig): Promise<EngineDriver> {
  const child = await startChild<{ rsize: number; wsize: number }>(`engine driver (${config.kind})`, new URL('./driver.ts', import.meta.url), [JSON.stringify(config)])
  return {
    pid: child.pid,
    rsize: child.ready.rsize,
    wsize: child.ready.wsize,
    run: (load) => child.request<LoadResult>(load),
    stop: () => child.stop(),
  }
}

// Parent side of the delay proxy: runs ./serve.ts as a child (see there why) and stops it by pid.
import { startChild } from '../lib/child.js'

export interface DelayProxyChild {
  pid: number
  port: number
  stop(): Promise<void>
}

/** A proxy adding DELAY_MS each way in front of 127.0.0.1:TARGET_PORT; resolves once it listens. */
export async function startDelayProxyChild(targetPort: number, delayMs: number): Promise<DelayProxyChild> {
  const child = await startChild<{ port: number }>(`delay proxy to ${targetPort}`, new URL('./serve.ts', import.meta.url), [String(targetPort), String(delayMs)])
  return { pid: child.pid, port: child.ready.port, stop: () => child.stop() }
}

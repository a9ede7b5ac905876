// Parent side of the FUSE ceiling: mounts the in-memory filesystem in a child process (the FUSE
// daemon must not live in the process that touches the mount) and hands back its pid and stop().
import { isMounted } from '../../test/fixtures/proc.js'
import { startChild } from '../lib/child.js'

export interface Ceiling {
  /** The daemon's pid (for CPU and memory readings). */
  pid: number
  mountpoint: string
  /** Unmounts and waits for the daemon to exit; rejects if it had to be killed or left the mount. */
  stop(): Promise<void>
}

/**
 * Mounts MemFs on MOUNTPOINT (an empty directory) with entry/attribute timeouts of CACHE_SECONDS
 * (0: caching off, as mapnfs by default). Resolves once the mount answers.
 */
export async function startCeiling(mountpoint: string, cacheSeconds = 0): Promise<Ceiling> {
  const child = await startChild('memfs ceiling', new URL('./serve.ts', import.meta.url), [mountpoint, String(cacheSeconds)], { mountpoint })
  if (!isMounted(mountpoint)) {
    await child.stop().catch(() => undefined)
    throw new Error(`memfs ceiling said ready but ${mountpoint} is not in /proc/mounts`)
  }
  return { pid: child.pid, mountpoint, stop: () => child.stop() }
}

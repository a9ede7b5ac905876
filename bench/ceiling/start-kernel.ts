// Parent side of the kernel-front-end FUSE ceiling: as start.ts, but the in-memory filesystem is
// served by KernelMount (serve-kernel.ts) instead of fuse-native and libfuse 2.
import { isMounted } from '../../test/fixtures/proc.js'
import { startChild } from '../lib/child.js'
import type { Ceiling } from './start.js'

/**
 * Mounts NodeMemFs on MOUNTPOINT (an empty directory) through KernelMount, with entry/attribute
 * timeouts of CACHE_SECONDS. Resolves once the mount answers.
 */
export async function startKernelCeiling(mountpoint: string, cacheSeconds = 0): Promise<Ceiling> {
  const child = await startChild('memfs kernel ceiling', new URL('./serve-kernel.ts', import.meta.url), [mountpoint, String(cacheSeconds)], { mountpoint })
  if (!isMounted(mountpoint)) {
    await child.stop().catch(() => undefined)
    throw new Error(`memfs kernel ceiling said ready but ${mountpoint} is not in /proc/mounts`)
  }
  return { pid: child.pid, mountpoint, stop: () => child.stop() }
}

// The FUSE front end a mount serves through, behind one shape: the kernel protocol spoken by
// mapnfs itself (src/fuse/kernel, over the inode-based NfsNodes) or fuse-native over libfuse 2
// (src/fuse/adapter.ts, over the path-based NfsFilesystem). Everything above (lifecycle, stats,
// serve) sees only FrontEnd.
import type { Engine } from '../engine/index.js'
import type { IdentityMap } from '../identity/index.js'
import { FuseMount, NfsFilesystem, type FilesystemStats } from '../fuse/index.js'
import { KernelMount } from '../fuse/kernel/mount.js'
import { NfsNodes } from '../fuse/nfs-nodes.js'
import type { Frontend } from './options.js'
import type { LockManager } from '../locks/index.js'

export interface FrontEnd {
  mount(): Promise<void>
  /** Unmounts (lazily: a busy mount goes too); resolves once the kernel let go. */
  unmount(): Promise<void>
  /** Commits every open file (the unmount path); logs failures, never rejects. */
  commitAll(): Promise<void>
  stats(): FilesystemStats
}

export interface FrontEndOptions {
  frontend: Frontend
  mountpoint: string
  /** Shown as the source in /proc/mounts. */
  fsname: string
  rsize: number
  wsize: number
  readonly: boolean
  sync: boolean
  /** Kernel entry/attribute cache in seconds (`cache`: 3, else 0). */
  cacheSeconds: number
  /** How long attributes from a reply answer later requests (the reuse bound, or the cache time). */
  attrMaxAgeMs: number
  autoCache: boolean
  defaultPermissions: boolean
  writeback: boolean
  /** libfuse 2 only: fuse-native's own per-op deadline; false for none (hard mounts). */
  opTimeoutMs: number | false
  log: (line: string) => void
  onOpError?: (op: string, errno: number) => void
  /** Kernel front end: the kinds of lock that go to the server, and who takes them there. */
  locks?: { manager: Promise<LockManager | null>; posix: boolean; flock: boolean }
}

/**
 * Calls the kernel may queue for the daemon in the background (readahead, async direct I/O,
 * writeback): the engine keeps up to 128 RPCs in flight, and each such request is one or two of
 * them, so 64 keeps the engine busy without queueing more than it can send.
 */
const MAX_BACKGROUND = 64

export function createFrontEnd(engine: Engine, identity: IdentityMap, root: Buffer, o: FrontEndOptions): FrontEnd {
  const errors = o.onOpError ? { onOpError: o.onOpError } : {}
  if (o.frontend === 'kernel') {
    const fs = new NfsNodes(engine, identity, root, {
      rsize: o.rsize,
      wsize: o.wsize,
      readonly: o.readonly,
      sync: o.sync,
      kernelCacheSeconds: o.cacheSeconds,
      attrMaxAgeMs: o.attrMaxAgeMs,
      autoCache: o.autoCache,
      log: o.log,
      ...(o.locks ? { locks: o.locks } : {}),
    })
    const mount = new KernelMount(o.mountpoint, fs, {
      fsname: o.fsname,
      readonly: o.readonly,
      defaultPermissions: o.defaultPermissions,
      allowOther: true,
      writebackCache: o.writeback,
      maxBackground: MAX_BACKGROUND,
      log: o.log,
      ...errors,
    })
    return {
      mount: () => mount.mount(),
      unmount: () => mount.unmount(),
      commitAll: () => fs.commitAll(),
      stats: () => fs.stats(),
    }
  }
  const fs = new NfsFilesystem(engine, identity, root, {
    rsize: o.rsize,
    wsize: o.wsize,
    readonly: o.readonly,
    sync: o.sync,
    dentryTtlMs: o.cacheSeconds > 0 ? o.cacheSeconds * 1000 : 1000,
    attrMaxAgeMs: o.attrMaxAgeMs,
    log: o.log,
  })
  const fuse = new FuseMount(o.mountpoint, fs, {
    fsname: o.fsname,
    readonly: o.readonly,
    cacheSeconds: o.cacheSeconds,
    autoCache: o.autoCache,
    defaultPermissions: o.defaultPermissions,
    opTimeoutMs: o.opTimeoutMs,
    log: o.log,
    ...errors,
  })
  return {
    mount: () => fuse.mount(),
    unmount: () => fuse.unmount(),
    commitAll: () => fs.commitAll(),
    stats: () => fs.stats(),
  }
}

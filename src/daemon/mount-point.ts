// A daemon's mount points across its own restarts: the mount a dead daemon left behind is cleared
// before a new one goes there, unless something still answers on it.
import { spawnSync } from 'node:child_process'
import { stat } from 'node:fs/promises'
import type { Logger } from 'pino'
import { isMounted } from '../mount/mounts.js'

export class MountPointBusy extends Error {
  readonly code = 'ERR_MOUNT_POINT_BUSY'
}

/**
 * Clears a dead mount at MP (even mkdir of a dead FUSE mount point fails, ENOTCONN). A live one is
 * another process's: MountPointBusy.
 */
export async function clearDeadMount(mp: string, log: Logger): Promise<void> {
  if (!isMounted(mp)) return
  if (await answers(mp)) throw new MountPointBusy(`${mp} is mounted by another process`)
  const r = spawnSync('fusermount', ['-u', '-z', mp], { encoding: 'utf8' })
  log.warn({ event: 'stale-mount', mountpoint: mp, ok: r.status === 0 }, `cleared a mount left at ${mp} by an earlier daemon`)
}

/**
 * A live mount answers stat; a dead FUSE mount fails with ENOTCONN. Asynchronous (libuv's thread
 * pool): a mount this process served would otherwise wait on the thread that must answer it.
 */
export async function answers(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

// Running containers across a daemon restart. dockerd bind-mounts a volume's mount point into each
// container's own mount namespace; when mapnfs serve stops, that copy stays behind as a dead FUSE
// mount (ENOTCONN), and mounting again on the host does not reach it (dockerd's binds do not
// propagate). So the restarted daemon looks for mounts of the old FUSE device in other mount
// namespaces and puts a copy of the new mount in their place (reattach.c does the namespace part).
import { readdirSync, readlinkSync, existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Logger } from 'pino'
import { readMountinfo, type MountinfoEntry } from '../mount/mounts.js'

/** Built next to this module by `npm run build` (scripts/build-reattach.mjs). */
export const REATTACH_HELPER = fileURLToPath(new URL('./mapnfs-reattach', import.meta.url))

export interface HeldMount {
  /** A process in the mount namespace that holds the old mount. */
  pid: number
  /** Where, as that process sees its paths. */
  target: string
  readonly: boolean
}

/** What identifies a mount across namespaces: its device, file system type and source. */
export type MountIdentity = Pick<MountinfoEntry, 'device' | 'fstype' | 'source'>

export function isMountIdentity(d: unknown): d is MountIdentity {
  const m = d as Partial<MountIdentity> | null
  return typeof m === 'object' && m !== null && typeof m.device === 'string' && /^\d+:\d+$/.test(m.device)
    && typeof m.fstype === 'string' && typeof m.source === 'string'
}

/** The identity of the mount at MOUNTPOINT in our namespace. */
export function mountIdentity(mountpoint: string): MountIdentity | undefined {
  const m = readMountinfo().find((e) => e.target === mountpoint)
  return m === undefined ? undefined : { device: m.device, fstype: m.fstype, source: m.source }
}

/**
 * Mounts with identity OLD in mount namespaces other than ours (one process named per namespace).
 * Device, type and source must all match: an anonymous device number freed by the old mount may
 * have gone to another file system since, which is not ours to replace.
 */
export function findHeldMounts(old: MountIdentity): HeldMount[] {
  const own = readLink('/proc/self/ns/mnt')
  const seen = new Set<string>(own === undefined ? [] : [own])
  const out: HeldMount[] = []
  for (const name of readdirSafe('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const ns = readLink(`/proc/${name}/ns/mnt`)
    if (ns === undefined || seen.has(ns)) continue
    seen.add(ns)
    for (const m of readMountinfo(`/proc/${name}/mountinfo`)) {
      if (m.device === old.device && m.fstype === old.fstype && m.source === old.source) {
        out.push({ pid: Number(name), target: m.target, readonly: m.options.split(',').includes('ro') })
      }
    }
  }
  return out
}

/** Replaces HELD with a copy of the mount at SOURCE; null on success, else why not. */
export function reattach(held: HeldMount, source: string): string | null {
  if (!existsSync(REATTACH_HELPER)) return `${REATTACH_HELPER} is missing (run npm run build)`
  const r = spawnSync(REATTACH_HELPER, [String(held.pid), held.target, source, ...(held.readonly ? ['ro'] : [])], { encoding: 'utf8', timeout: 10_000 })
  if (r.status === 0) return null
  return (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0]!
}

/**
 * Processes that held PREVIOUS, the mount of the daemon before this one, get the new mount at MP
 * in its place, each in its own mount namespace; each outcome is logged.
 */
export function carryOver(previous: MountIdentity, mp: string, log: Logger): void {
  for (const held of findHeldMounts(previous)) {
    const why = reattach(held, mp)
    if (why === null) log.info({ event: 'reattach', pid: held.pid, target: held.target }, `gave the new mount to the mount namespace of pid ${held.pid} at ${held.target}`)
    else log.warn({ event: 'reattach-failed', pid: held.pid, target: held.target, err: why }, `could not give the new mount to pid ${held.pid} at ${held.target}: ${why} (restart that container)`)
  }
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path)
  } catch {
    return undefined
  }
}

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path)
  } catch {
    return []
  }
}

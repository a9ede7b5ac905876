// Running containers across a daemon restart. dockerd bind-mounts a volume's mount point into each
// container's own mount namespace; when mapnfs serve stops, that copy stays behind as a dead FUSE
// mount (ENOTCONN), and mounting again on the host does not reach it (dockerd's binds do not
// propagate). So the restarted daemon looks for mounts of the old FUSE device in other mount
// namespaces and puts a copy of the new mount in their place (reattach.c does the namespace part).
import { readdirSync, readFileSync, readlinkSync, existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** Built next to this module by `npm run build` (scripts/build-reattach.mjs). */
export const REATTACH_HELPER = fileURLToPath(new URL('./mapnfs-reattach', import.meta.url))

export interface HeldMount {
  /** A process in the mount namespace that holds the old mount. */
  pid: number
  /** Where, as that process sees its paths. */
  target: string
  readonly: boolean
}

const unescape = (p: string): string => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))

/** The device ("major:minor") of the mount at MOUNTPOINT in our namespace. */
export function mountDevice(mountpoint: string): string | undefined {
  for (const line of readText('/proc/self/mountinfo').split('\n')) {
    const f = line.split(' ')
    if (f.length > 5 && unescape(f[4]!) === mountpoint) return f[2]
  }
  return undefined
}

/** Mounts of DEVICE in mount namespaces other than ours (one process named per namespace). */
export function findHeldMounts(device: string): HeldMount[] {
  const own = readLink('/proc/self/ns/mnt')
  const seen = new Set<string>(own === undefined ? [] : [own])
  const out: HeldMount[] = []
  for (const name of readdirSafe('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const ns = readLink(`/proc/${name}/ns/mnt`)
    if (ns === undefined || seen.has(ns)) continue
    seen.add(ns)
    for (const line of readText(`/proc/${name}/mountinfo`).split('\n')) {
      const f = line.split(' ')
      if (f.length > 5 && f[2] === device) out.push({ pid: Number(name), target: unescape(f[4]!), readonly: f[5]!.split(',').includes('ro') })
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

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
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

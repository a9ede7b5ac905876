import { readFileSync } from 'node:fs'

/** One line of /proc/PID/mountinfo (proc(5)), paths with their octal escapes decoded. */
export interface MountinfoEntry {
  /** "major:minor" of the mounted file system. */
  device: string
  /** Mount point, as the process reading the file sees its paths. */
  target: string
  /** Per-mount options (ro/rw, nosuid, ...). */
  options: string
  fstype: string
  source: string
}

const unescape = (p: string): string => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))

/** The mounts in FILE (default: ours); none when it cannot be read (a process that has gone). */
export function readMountinfo(file = '/proc/self/mountinfo'): MountinfoEntry[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return []
  }
  const out: MountinfoEntry[] = []
  for (const line of text.split('\n')) {
    // Fields 3, 5 and 6 are the device, mount point and options; after " - ": type and source.
    const [head, tail] = line.split(' - ')
    const f = head?.split(' ') ?? []
    const t = tail?.split(' ') ?? []
    if (f.length < 6 || t.length < 2) continue
    out.push({ device: f[2]!, target: unescape(f[4]!), options: f[5]!, fstype: t[0]!, source: unescape(t[1]!) })
  }
  return out
}

/** Mount points currently mounted in our namespace. */
export function mountedPaths(): Set<string> {
  return new Set(readMountinfo().map((m) => m.target))
}

export function isMounted(path: string): boolean {
  return mountedPaths().has(path)
}

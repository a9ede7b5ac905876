import { readFileSync } from 'node:fs'

/** Mount points currently mounted, from /proc/self/mountinfo (octal escapes decoded). */
export function mountedPaths(): Set<string> {
  const out = new Set<string>()
  let text = ''
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8')
  } catch {
    return out
  }
  for (const line of text.split('\n')) {
    const f = line.split(' ')
    if (f.length > 4) out.add(f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
  }
  return out
}

export function isMounted(path: string): boolean {
  return mountedPaths().has(path)
}

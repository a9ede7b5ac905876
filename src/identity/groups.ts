import { readFile } from 'node:fs/promises'

/** Supplementary groups change rarely; a short cache spares a /proc read per FUSE op. */
const TTL_MS = 2000
const MAX_ENTRIES = 1024

/** AUTH_SYS carries at most 16 auxiliary gids (RFC 5531 appendix A). */
export const MAX_AUX_GIDS = 16

/**
 * Supplementary groups of a process, from the `Groups:` line of /proc/PID/status, cached per
 * pid for a couple of seconds. A process that is gone (or unreadable) yields [] — the call then
 * carries its primary gid only, never an implicit 0.
 */
export class GroupCache {
  readonly #entries = new Map<number, { gids: number[]; expires: number }>()
  readonly #procRoot: string

  constructor(procRoot = '/proc') {
    this.#procRoot = procRoot
  }

  async groupsOf(pid: number, primaryGid: number): Promise<number[]> {
    const now = Date.now()
    const hit = this.#entries.get(pid)
    if (hit && hit.expires > now) return hit.gids
    let gids: number[] = []
    try {
      const status = await readFile(`${this.#procRoot}/${pid}/status`, 'utf8')
      const line = /^Groups:(.*)$/m.exec(status)
      if (line) gids = parseGroups(line[1]!, primaryGid)
    } catch {
      gids = []
    }
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear()
    this.#entries.set(pid, { gids, expires: now + TTL_MS })
    return gids
  }
}

/** The primary gid first, then up to 15 more, no duplicates. */
export function parseGroups(text: string, primaryGid: number): number[] {
  const out = [primaryGid]
  for (const tok of text.trim().split(/\s+/)) {
    if (out.length >= MAX_AUX_GIDS) break
    if (!/^\d+$/.test(tok)) continue
    const g = Number(tok)
    if (!out.includes(g)) out.push(g)
  }
  return out
}

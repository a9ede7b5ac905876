// Path → file handle cache. FUSE (high-level libfuse) addresses everything by path; NFS by
// handle. Handles are stable, so a cached handle stays right until the name is unlinked or
// renamed — by us (we invalidate) or by someone else (the TTL bounds how long we can be
// wrong, and ESTALE from the server makes the caller drop the entry and look up again).

/** Large directory walks should not grow memory without bound. */
const MAX_ENTRIES = 65536

export class PathCache {
  readonly #ttlMs: number
  readonly #entries = new Map<string, { fh: Buffer; expires: number }>()

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs
  }

  get(path: string): Buffer | undefined {
    const e = this.#entries.get(path)
    if (e === undefined) return undefined
    if (e.expires <= Date.now()) {
      this.#entries.delete(path)
      return undefined
    }
    return e.fh
  }

  set(path: string, fh: Buffer): void {
    if (this.#ttlMs <= 0) return
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear()
    this.#entries.set(path, { fh, expires: Date.now() + this.#ttlMs })
  }

  /** Drops `path` only (a name that has nothing below it). */
  forget(path: string): void {
    this.#entries.delete(path)
  }

  /** Drops `path` and everything below it (a renamed or removed directory takes its subtree). */
  invalidate(path: string): void {
    this.#entries.delete(path)
    const prefix = path === '/' ? '/' : path + '/'
    for (const key of this.#entries.keys()) {
      if (key.startsWith(prefix)) this.#entries.delete(key)
    }
  }

  clear(): void {
    this.#entries.clear()
  }
}

// Path -> (handle, attributes) seen in a reply, reused for a short while.
//
// Why: libfuse 2's high-level API turns one stat(2) into several requests for the same path: the
// kernel's LOOKUP of each component, its permission checks (default_permissions refreshes a
// directory's attributes before judging it), then the GETATTR itself. Every one of them used to be
// an RPC. Attributes that came in a reply a few milliseconds ago answer them all; with `cache` on
// they live as long as the kernel's own attribute cache.
//
// Honesty: an entry older than `maxAgeMs` is never used, so a change made by another client shows
// on the next stat after that bound. The mount's own changes drop (or replace, from the reply's
// post-operation attributes) the entries they affect at once, and a reply to a request that was
// already on its way when something was dropped is not stored (it may predate the change): callers
// take a `generation()` before asking and pass it to set().
//
// Entries are per credential: what a LOOKUP answered one caller (the server checked that caller's
// search permission, and a mapped mount shows ownership relative to the caller) is not handed to
// another.
import type { Fattr3 } from '../xdr/types.js'

export interface CachedAttr {
  fh: Buffer
  attr: Fattr3
}

interface Entry extends CachedAttr {
  at: number
}

/** Long directory walks must not grow memory without bound. */
const MAX_PATHS = 65536

export class AttrCache {
  readonly #maxAgeMs: number
  readonly #paths = new Map<string, Map<object, Entry>>()
  #generation = 0

  constructor(maxAgeMs: number) {
    this.#maxAgeMs = maxAgeMs
  }

  /** The entry for `path` as seen by `who`, when younger than the bound. */
  get(who: object, path: string): CachedAttr | undefined {
    const e = this.#paths.get(path)?.get(who)
    if (e === undefined) return undefined
    if (performance.now() - e.at > this.#maxAgeMs) return undefined
    return e
  }

  /** The handle any caller's entry for `path` holds, however old (which file a name was). */
  handleOf(path: string): Buffer | undefined {
    for (const e of this.#paths.get(path)?.values() ?? []) return e.fh
    return undefined
  }

  /** Changes whenever something is dropped: a reply asked for before then may be older than the drop. */
  generation(): number {
    return this.#generation
  }

  /** Stores what a reply said, unless something was dropped since `since` (a generation()). */
  set(who: object, path: string, fh: Buffer, attr: Fattr3, since = this.#generation): void {
    if (this.#maxAgeMs <= 0 || since !== this.#generation) return
    let byWho = this.#paths.get(path)
    if (byWho === undefined) {
      if (this.#paths.size >= MAX_PATHS) this.#paths.clear()
      byWho = new Map()
      this.#paths.set(path, byWho)
    }
    byWho.set(who, { fh, attr, at: performance.now() })
  }

  /** Drops what any caller saw of `path`. */
  forget(path: string): void {
    this.#generation++
    this.#paths.delete(path)
  }

  /** Drops `path` and everything below it (a renamed or removed directory takes its subtree). */
  forgetTree(path: string): void {
    this.#generation++
    this.#paths.delete(path)
    const prefix = path === '/' ? '/' : path + '/'
    for (const key of this.#paths.keys()) {
      if (key.startsWith(prefix)) this.#paths.delete(key)
    }
  }

  /** Drops every entry whose handle is `fh` (a file changed through a handle, under any name). */
  forgetHandle(fh: Buffer): void {
    this.#generation++
    for (const [path, byWho] of this.#paths) {
      for (const e of byWho.values()) {
        if (e.fh.equals(fh)) {
          this.#paths.delete(path)
          break
        }
      }
    }
  }

  clear(): void {
    this.#generation++
    this.#paths.clear()
  }
}

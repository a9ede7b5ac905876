// Credential interning for the pooled engine: each distinct CallCredential crosses to a worker
// once, as (id, auth, map); later calls carry only the id.
//
//   main: CallCredential ──WeakMap (same object)──► entry ──► id
//                        └─content key (new object, same ids)─┘
//         per worker: ids it already knows; unknown → the definition rides in the next batch
//   worker: Map<id, CallCredential>, filled by definitions, emptied by drops
//
// The identity layer reuses credential objects, but a multi-user mount makes one per caller pid,
// so entries are also found by content, and the table is bounded: the oldest entry beyond
// MAX_CREDENTIALS is dropped, and every worker that knew it is told (after the calls of the same
// batch, so a call already queued with that id still finds it).
import type { CallCredential } from '../proto/nfs3/index.js'

/** Distinct credentials remembered: far above the distinct (uid, gid, groups) sets of a mount's callers. */
export const MAX_CREDENTIALS = 1024

/** How a credential crosses to a worker: [id, auth, map]. */
export type WireCredential = [number, CallCredential['auth'], CallCredential['map']]

interface Entry {
  readonly id: number
  readonly key: string
  readonly cred: CallCredential
  /** Workers (by index) that hold this id. */
  readonly known: Set<number>
  alive: boolean
}

export class CredentialTable {
  readonly #byObject = new WeakMap<CallCredential, Entry>()
  readonly #byKey = new Map<string, Entry>()
  readonly #max: number
  #nextId = 1

  constructor(max = MAX_CREDENTIALS) {
    this.#max = max
  }

  get size(): number {
    return this.#byKey.size
  }

  /**
   * The id of `cred` for `worker`; `define` receives the definition when that worker does not
   * know it yet, `drop(worker, id)` each id an eviction took from a worker.
   */
  idFor(cred: CallCredential, worker: number, define: (w: WireCredential) => void, drop: (worker: number, id: number) => void): number {
    let e = this.#byObject.get(cred)
    if (e === undefined || !e.alive) {
      const key = credentialKey(cred)
      e = this.#byKey.get(key)
      if (e === undefined) {
        e = { id: this.#nextId++, key, cred, known: new Set(), alive: true }
        this.#byKey.set(key, e)
        if (this.#byKey.size > this.#max) this.#evictOldest(drop)
      }
      this.#byObject.set(cred, e)
    }
    if (!e.known.has(worker)) {
      e.known.add(worker)
      define([e.id, e.cred.auth, e.cred.map])
    }
    return e.id
  }

  /** A worker is gone: it holds nothing any more. */
  forgetWorker(worker: number): void {
    for (const e of this.#byKey.values()) e.known.delete(worker)
  }

  #evictOldest(drop: (worker: number, id: number) => void): void {
    const [key, old] = this.#byKey.entries().next().value as [string, Entry]
    this.#byKey.delete(key)
    old.alive = false
    for (const w of old.known) drop(w, old.id)
  }
}

/** Everything that goes on the wire or into the inbound rewrite. */
function credentialKey(c: CallCredential): string {
  const a = c.auth
  const m = c.map
  return `${a.uid}:${a.gid}:${a.gids.join(',')}:${a.stamp}:${a.machine}|${m === null ? '' : `${m.serverUid}:${m.serverGid}:${m.localUid}:${m.localGid}`}`
}

// The kernel's inodes and the NFS files behind them.
//
//   nodeid ──► Node { fh, nlookup, attr (as a reply gave it, for whom, when) }
//   fh key ──► nodeid          one kernel inode per NFS file: every name of a hard-linked file
//                              resolves to the same node, so they share attributes and page cache
//   (parent, name) ──► nodeid  what the kernel was last told a name is (to notice a name that
//                              another client pointed elsewhere); bounded, only a hint
//
// A node lives while the kernel holds lookups on it (each entry handed out adds one, FORGET takes
// them back) or an open file uses it; node ids are never reused, so a late FORGET or a stale id
// can only miss (ESTALE), never reach another file. The root (node 1) is never forgotten.
import type { Fattr3 } from '../xdr/types.js'
import { ESTALE, FsError } from './errno.js'
import { ROOT_NODE } from './node-operations.js'

export interface Node {
  readonly id: number
  readonly fh: Buffer
  readonly key: string
  nlookup: number
  /** Open files (and open directories) using this node. */
  opens: number
  /** Attributes from the latest reply, and whose view they are (a mapped mount shows ownership per caller). */
  attr?: Fattr3
  attrWho?: object
  attrAt: number
  /** Set while the file, unlinked while open, lives on under a hidden name (removed at the last release). */
  hidden?: { dir: Buffer; name: string }
  /** mtime and size at the last open or own write: unchanged at the next open means the page cache may stay. */
  cacheStamp?: string
}

/** What a reply said a name is, for whom (the server checked that caller's search permission), and when. */
interface NameBinding {
  id: number
  who: object | undefined
  at: number
}

/** Names remembered, at most: the map answers repeated lookups for a short while and notices replaced names. */
const MAX_NAMES = 65536

export class NodeTable {
  readonly #byId = new Map<number, Node>()
  readonly #byKey = new Map<string, number>()
  readonly #names = new Map<string, NameBinding>()
  #nextId = ROOT_NODE + 1
  #epoch = 0

  constructor(rootFh: Buffer) {
    const root = this.#make(ROOT_NODE, rootFh)
    root.nlookup = 1
  }

  get size(): number {
    return this.#byId.size
  }

  /** The node NODEID, or ESTALE when the kernel names one we no longer know. */
  get(nodeid: number): Node {
    const n = this.#byId.get(nodeid)
    if (n === undefined) throw new FsError(ESTALE, `unknown node ${nodeid}`)
    return n
  }

  /** The node of FH, if the kernel holds one. */
  byHandle(fh: Buffer): Node | undefined {
    const id = this.#byKey.get(fh.toString('base64'))
    return id === undefined ? undefined : this.#byId.get(id)
  }

  /** The node of FH, made if new; not counted as a lookup (see ref). */
  intern(fh: Buffer): Node {
    return this.byHandle(fh) ?? this.#make(this.#nextId++, fh)
  }

  /** One more reference the kernel holds (an entry it was given). */
  ref(n: Node): void {
    n.nlookup++
  }

  /** The kernel dropped NLOOKUP references. */
  forget(nodeid: number, nlookup: number): void {
    const n = this.#byId.get(nodeid)
    if (n === undefined || n.id === ROOT_NODE) return
    n.nlookup = Math.max(0, n.nlookup - nlookup)
    this.#collect(n)
  }

  /** An open file of N was released. */
  closed(n: Node): void {
    n.opens = Math.max(0, n.opens - 1)
    this.#collect(n)
  }

  /** Attributes of N as WHO sees them, if a reply gave them less than MAXAGE ms ago. */
  freshAttr(n: Node, who: object, maxAgeMs: number): Fattr3 | undefined {
    if (n.attr === undefined || n.attrWho !== who) return undefined
    return performance.now() - n.attrAt <= maxAgeMs ? n.attr : undefined
  }

  /**
   * Changes whenever any node's attributes are dropped. A reply asked for before then may predate
   * the change (a LOOKUP answered after a WRITE it crossed): callers take epoch() before asking
   * and pass it to setAttr. Coarse on purpose: a reply names its node only once it arrives.
   */
  epoch(): number {
    return this.#epoch
  }

  /** Stores what a reply said of N, unless attributes were dropped since SINCE (an epoch(); none: store). */
  setAttr(n: Node, who: object, attr: Fattr3, since?: number): void {
    if (since !== undefined && since !== this.#epoch) return
    n.attr = attr
    n.attrWho = who
    n.attrAt = performance.now()
  }

  /** N changed (a write, a size or mode change, a link count): its cached attributes go. */
  dropAttr(n: Node): void {
    this.#epoch++
    n.attr = undefined
  }

  /** Records that a reply to WHO said NAME in PARENT is N; returns the node it was before, when that was another. */
  bindName(parent: number, name: string, n: Node, who?: object): number | undefined {
    const k = `${parent}/${name}`
    const before = this.#names.get(k)
    if (this.#names.size >= MAX_NAMES && before === undefined) this.#names.clear()
    this.#names.set(k, { id: n.id, who, at: performance.now() })
    return before !== undefined && before.id !== n.id ? before.id : undefined
  }

  /** The node NAME in PARENT was last bound to, if it is still known. */
  named(parent: number, name: string): Node | undefined {
    const b = this.#names.get(`${parent}/${name}`)
    return b === undefined ? undefined : this.#byId.get(b.id)
  }

  /** The node a reply to WHO bound NAME in PARENT to less than MAXAGE ms ago (the reuse bound). */
  freshName(parent: number, name: string, who: object, maxAgeMs: number): Node | undefined {
    const b = this.#names.get(`${parent}/${name}`)
    if (b === undefined || b.who !== who || performance.now() - b.at > maxAgeMs) return undefined
    return this.#byId.get(b.id)
  }

  unbindName(parent: number, name: string): void {
    this.#names.delete(`${parent}/${name}`)
  }

  #make(id: number, fh: Buffer): Node {
    const n: Node = { id, fh: Buffer.from(fh), key: fh.toString('base64'), nlookup: 0, opens: 0, attrAt: 0 }
    this.#byId.set(id, n)
    this.#byKey.set(n.key, id)
    return n
  }

  #collect(n: Node): void {
    if (n.nlookup > 0 || n.opens > 0 || n.id === ROOT_NODE) return
    this.#byId.delete(n.id)
    if (this.#byKey.get(n.key) === n.id) this.#byKey.delete(n.key)
  }
}

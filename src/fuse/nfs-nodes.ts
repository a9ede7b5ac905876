// The filesystem behind the kernel-protocol front end: the kernel's node ids are NFS file handles
// (node-table.ts), so no path is ever resolved twice and every name of a file is one inode.
//
// Attributes: each reply's attributes are kept on the node and answer the requests of the same
// syscall (the kernel's GETATTR after a LOOKUP, its permission checks) for `attrMaxAgeMs`; the
// kernel itself keeps them `attrTimeout` seconds (0 unless `cache`). The mount's own changes drop
// what they affect at once. Open files: reads and writes through OpenFile (readahead, write-behind)
// as with the libfuse 2 front end; a file unlinked while open lives on under a hidden name until
// its last release, as libfuse's hard_remove-less mode and the kernel NFS client's silly rename do.
import type { Engine } from '../engine/index.js'
import type { Caller, IdentityMap } from '../identity/index.js'
import type { CallCredential } from '../proto/nfs3/index.js'
import { ACCESS3_EXTEND, ACCESS3_MODIFY, ACCESS3_READ } from '../xdr/constants.js'
import type { CreateRes, Entryplus3, Fattr3, Sattr3 } from '../xdr/types.js'
import { GUARDED, NF3BLK, NF3CHR, NF3DIR, NF3FIFO, NF3SOCK } from '../xdr/types.js'
import { EACCES, EBADF, EINVAL, EIO, ENAMETOOLONG, ENOLCK, ENOTDIR, EPERM, EROFS, FsError } from './errno.js'
import type { FilesystemStats } from './filesystem.js'
import { NodeTable, type Node } from './node-table.js'
import {
  FOPEN_KEEP_CACHE, type DirSink, type KernelNotifier, type Negotiated, type NodeAttr, type NodeEntry, type NodeOpen,
  type NodeOperations, type SetAttrs, type FileLock, type SetLockOptions,
} from './node-operations.js'
import { OpenFile } from './open-file.js'
import { accessBits, grants, NAME_MAX, onlyClearsSetId, READDIR_DIRCOUNT, READDIR_MAXCOUNT } from './nfs-rules.js'
import type { FuseStatfs } from './operations.js'
import { ReadAheadBudget } from './read-ahead.js'
import { S_IFBLK, S_IFCHR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK, splitDev, toFuseStat } from './stat.js'
import { WriteBudget } from './write-behind.js'
import { F_UNLCK, type LockManager } from '../locks/index.js'

export interface NfsNodesOptions {
  /** Negotiated READ size (FSINFO rtmax clamped). */
  rsize: number
  /** Negotiated WRITE size (FSINFO wtmax clamped). */
  wsize: number
  readonly: boolean
  /** Write-through: each write() waits for its WRITE reply. */
  sync: boolean
  /** Seconds the kernel keeps entries and attributes (`cache`: 3; else 0). */
  kernelCacheSeconds: number
  /** How long attributes from a reply answer later requests for the same node (the reuse bound, or the cache time). */
  attrMaxAgeMs: number
  /** Keep the page cache of a file across opens while its mtime and size are unchanged. */
  autoCache: boolean
  log: (line: string) => void
  /**
   * Locks taken on the server (NLM): fcntl locks when `posix`, flock when `flock`; absent or
   * false, the kernel keeps that kind on this host (local_lock).
   */
  locks?: { manager: Promise<LockManager | null>; posix: boolean; flock: boolean }
}

const O_ACCMODE = 3
const O_WRONLY = 1
const O_RDWR = 2
const O_TRUNC = 0o1000
const O_EXCL = 0o200
const RENAME_NOREPLACE = 1
const NFS3ERR_EXIST = 17
/** Handles are the kernel's u64 but ours stay safe integers. */
const FH_MAX = Number.MAX_SAFE_INTEGER

/** An open directory: the READDIRPLUS position and the entries fetched but not yet given to the kernel. */
interface OpenDir {
  node: Node
  verf: Buffer
  /** The offset the kernel is expected to ask for next (the cookie of the last entry it took). */
  at: bigint
  /** Entries fetched past `at`, in order. */
  pending: Entryplus3[]
  /** Where the next READDIRPLUS starts, and whether the server said the directory ends after `pending`. */
  cookie: bigint
  eof: boolean
  seen: Set<bigint>
  /** The attributes epoch when `pending` was fetched (NodeTable.epoch). */
  since: number
}

interface OpenEntry {
  node: Node
  file: OpenFile
}

export class NfsNodes implements NodeOperations {
  readonly #engine: Engine
  readonly #identity: IdentityMap
  readonly #opts: NfsNodesOptions
  readonly #nodes: NodeTable
  readonly #files = new Map<number, OpenEntry>()
  readonly #dirs = new Map<number, OpenDir>()
  #nextFh = 1
  readonly #budget = new WriteBudget()
  readonly #readBudget = new ReadAheadBudget()
  readonly #counters: FilesystemStats = { rewrittenChunks: 0, staleRetries: 0 }
  #notify: KernelNotifier | undefined
  #hiddenSeq = 0
  /** The lock manager once it has started (null: the server has none). */
  #startedLocks: LockManager | null = null

  constructor(engine: Engine, identity: IdentityMap, root: Buffer, opts: NfsNodesOptions) {
    this.#engine = engine
    this.#identity = identity
    this.#opts = opts
    this.#nodes = new NodeTable(root)
    void opts.locks?.manager.then((m) => { this.#startedLocks = m })
  }

  init(_negotiated: Negotiated, notify: KernelNotifier): void {
    this.#notify = notify
  }

  stats(): FilesystemStats {
    return { ...this.#counters, uncommittedBytes: this.#budget.held - this.#budget.dirty, dirtyBytes: this.#budget.dirty }
  }

  /** Nodes the kernel holds (and open files keep): what FORGET bounds. */
  get nodeCount(): number {
    return this.#nodes.size
  }

  // ---- helpers ----------------------------------------------------------------------------

  #cred(caller: Caller): Promise<CallCredential> {
    return this.#identity.credentialFor(caller)
  }

  /** The node a request is about: its open file's when it names one the kernel still has open. */
  #nodeOf(nodeid: number, fh: number | undefined): Node {
    return fh !== undefined && this.#files.has(fh) ? this.#file(fh).node : this.#nodes.get(nodeid)
  }

  #writable(): void {
    if (this.#opts.readonly) throw new FsError(EROFS, 'read-only mount')
  }

  #entry(n: Node, attr: Fattr3): NodeEntry {
    const t = this.#opts.kernelCacheSeconds
    return { nodeid: n.id, generation: 0, attr: toFuseStat(attr), entryTimeout: t, attrTimeout: t }
  }

  #attrReply(attr: Fattr3): NodeAttr {
    return { attr: toFuseStat(attr), attrTimeout: this.#opts.kernelCacheSeconds }
  }

  /** A name the kernel got for N in PARENT, as a reply to WHO said: counted and bound. */
  #handOut(parent: number, name: string, n: Node, attr: Fattr3, who?: object): NodeEntry {
    this.#nodes.ref(n)
    this.#nodes.bindName(parent, name, n, who)
    return this.#entry(n, attr)
  }

  /** Current attributes of N for CRED: from the node when fresh, else GETATTR (after its own WRITEs). */
  async #attrOf(cred: CallCredential, n: Node): Promise<Fattr3> {
    const settled = await this.#settle(n)
    const hit = settled ? undefined : this.#nodes.freshAttr(n, cred, this.#opts.attrMaxAgeMs)
    if (hit) return hit
    const since = this.#nodes.epoch()
    const attr = (await this.#engine.getattr(cred, n.fh)).attr!
    this.#nodes.setAttr(n, cred, attr, since)
    for (const e of this.#files.values()) {
      if (e.node === n) e.file.observe(attr)
    }
    return attr
  }

  /** An open file of N has WRITEs unanswered, or attributes were dropped since SINCE (an epoch()). */
  #inFlux(n: Node, since: number): boolean {
    if (this.#nodes.epoch() !== since) return n.opens > 0
    if (n.opens === 0 || this.#budget.dirty === 0) return false
    for (const e of this.#files.values()) {
      if (e.node === n && e.file.dirty) return true
    }
    return false
  }

  /** Waits until no open file of N (but EXCEPT) has a WRITE unanswered; true when there was one. */
  async #settle(n: Node, except?: OpenFile): Promise<boolean> {
    if (this.#budget.dirty === 0) return false
    const dirty: OpenFile[] = []
    for (const e of this.#files.values()) {
      if (e.node === n && e.file !== except && e.file.dirty) dirty.push(e.file)
    }
    if (dirty.length === 0) return false
    await Promise.all(dirty.map((f) => f.drain()))
    return true
  }

  /** The data of N changed: what its open files prefetched may be stale, and its attributes are. */
  #changedData(n: Node): void {
    this.#nodes.dropAttr(n)
    for (const e of this.#files.values()) {
      if (e.node === n) e.file.dropReadAhead()
    }
  }

  #dirChanged(cred: CallCredential, dir: Node, after: Fattr3 | undefined): void {
    this.#nodes.dropAttr(dir)
    if (after) this.#nodes.setAttr(dir, cred, after)
  }

  #file(fh: number): OpenEntry {
    const e = this.#files.get(fh)
    if (!e) throw new FsError(EBADF, `unknown file handle ${fh}`)
    return e
  }

  #newFh(): number {
    for (let i = 0; i < 16 && (this.#files.has(this.#nextFh) || this.#dirs.has(this.#nextFh)); i++) this.#nextFh++
    const fh = this.#nextFh
    this.#nextFh = fh >= FH_MAX ? 1 : fh + 1
    return fh
  }

  // ---- names ------------------------------------------------------------------------------

  async lookup(caller: Caller, parent: number, name: string): Promise<NodeEntry> {
    // "." and ".." come from the kernel's export support (a FUSE mount exported by knfsd finding
    // a directory's parent): NFSv3 servers answer both.
    if (name !== '.' && name !== '..') checkName(name)
    const cred = await this.#cred(caller)
    const dir = this.#nodes.get(parent)
    // The reuse bound: one path walk (and the few syscalls of one `ls -l` entry) asks for the
    // same names within a millisecond or two; a reply less than attrMaxAgeMs old answers them.
    const maxAge = this.#opts.attrMaxAgeMs
    const known = this.#nodes.freshName(parent, name, cred, maxAge)
    const knownAttr = known && this.#nodes.freshAttr(known, cred, maxAge)
    if (known && knownAttr) {
      this.#nodes.ref(known)
      return this.#entry(known, knownAttr)
    }
    const since = this.#nodes.epoch()
    const r = await this.#engine.lookup(cred, dir.fh, name)
    const n = this.#nodes.intern(r.fh!)
    // Our own WRITEs still on their way (or answered while the LOOKUP was) are not in its
    // attributes, and the kernel, told of those writes long ago, would take them as news (a
    // size that goes back): ask again once they are answered.
    const attr = r.attr === undefined || this.#inFlux(n, since) ? await this.#attrOf(cred, n) : r.attr
    this.#nodes.setAttr(n, cred, attr, since)
    if (r.dirAttr) this.#nodes.setAttr(dir, cred, r.dirAttr, since)
    return this.#handOut(parent, name, n, attr, cred)
  }

  forget(nodeid: number, nlookup: number): void {
    this.#nodes.forget(nodeid, nlookup)
  }

  async getattr(caller: Caller, nodeid: number, fh: number | undefined): Promise<NodeAttr> {
    const cred = await this.#cred(caller)
    const n = this.#nodeOf(nodeid, fh)
    return this.#attrReply(await this.#attrOf(cred, n))
  }

  async setattr(caller: Caller, nodeid: number, fh: number | undefined, set: SetAttrs): Promise<NodeAttr> {
    this.#writable()
    const cred = await this.#cred(caller)
    const n = this.#nodeOf(nodeid, fh)
    const attrs: Sattr3 = {}
    if (set.mode !== undefined) attrs.mode = set.mode & 0o7777
    if (set.uid !== undefined || set.gid !== undefined) Object.assign(attrs, this.#identity.toServerOwner(set.uid ?? -1, set.gid ?? -1, caller))
    if (set.atime !== undefined && set.atime !== 'omit') attrs.atime = set.atime === 'now' ? 'server' : set.atime
    if (set.mtime !== undefined && set.mtime !== 'omit') attrs.mtime = set.mtime === 'now' ? 'server' : set.mtime
    if (set.size !== undefined) {
      // Servers let the owner change the size whatever the mode bits (RFC 1813 §4.4): truncate(2)
      // by path must ask for write permission first, as the kernel NFS client does. Through an
      // open handle (ftruncate) the open already did.
      if (fh === undefined) await this.#requireAccess(cred, n, ACCESS3_MODIFY, 'truncate')
      attrs.size = set.size
    }
    try {
      return this.#attrReply(await this.#applySetattr(cred, n, attrs))
    } catch (err) {
      // A mode change that only clears set-id bits, refused to a non-owner: leave it to the WRITE
      // (the server clears them when a non-owner writes), as the kernel NFS client does.
      if ((err as { errno?: number }).errno === EPERM && attrs.mode !== undefined && n.attr && onlyClearsSetId(n.attr.mode, attrs.mode)) {
        return this.#attrReply(await this.#attrOf(cred, n))
      }
      throw err
    }
  }

  /** SETATTR on N; readahead goes when the size changes (when sent and when answered). */
  async #applySetattr(cred: CallCredential, n: Node, attrs: Sattr3): Promise<Fattr3> {
    await this.#settle(n)
    const sized = attrs.size !== undefined
    if (sized) this.#changedData(n)
    this.#nodes.dropAttr(n)
    const since = this.#nodes.epoch()
    let after: Fattr3 | undefined
    try {
      after = (await this.#engine.setattr(cred, n.fh, attrs)).after
    } finally {
      if (sized) this.#changedData(n)
    }
    if (after === undefined) return this.#attrOf(cred, n)
    // A size change is dropped again when answered: its own reply's attributes are the news.
    this.#nodes.setAttr(n, cred, after, sized ? undefined : since)
    return after
  }

  async #requireAccess(cred: CallCredential, n: Node, want: number, what: string): Promise<void> {
    const granted = (await this.#engine.access(cred, n.fh, want)).access ?? 0
    if (!(granted & want)) throw new FsError(EACCES, `${what} denied`)
  }

  async readlink(caller: Caller, nodeid: number): Promise<string> {
    const cred = await this.#cred(caller)
    const n = this.#nodes.get(nodeid)
    return (await this.#engine.readlink(cred, n.fh)).target!.toString('utf8')
  }

  /** After CREATE/MKDIR/SYMLINK/MKNOD: the new node, counted and bound, and the directory's new attributes. */
  async #created(cred: CallCredential, dir: Node, name: string, r: CreateRes): Promise<{ n: Node; entry: NodeEntry }> {
    this.#dirChanged(cred, dir, r.dirAfter)
    // RFC 1813 lets a server omit the new handle or its attributes; then they are asked for.
    const fh = r.fh ?? (await this.#engine.lookup(cred, dir.fh, name)).fh!
    const n = this.#nodes.intern(fh)
    const attr = r.attr ?? (await this.#engine.getattr(cred, fh)).attr!
    this.#nodes.setAttr(n, cred, attr)
    return { n, entry: this.#handOut(dir.id, name, n, attr, cred) }
  }

  async mknod(caller: Caller, parent: number, name: string, mode: number, rdev: number): Promise<NodeEntry> {
    this.#writable()
    checkName(name)
    const cred = await this.#cred(caller)
    const dir = this.#nodes.get(parent)
    const attrs: Sattr3 = { mode: mode & 0o7777 }
    const kind = mode & S_IFMT
    let r: CreateRes
    switch (kind) {
      case 0:
      case S_IFREG:
        r = await this.#engine.create(cred, dir.fh, name, { mode: GUARDED, attrs })
        break
      case S_IFIFO:
        r = await this.#engine.mknod(cred, dir.fh, name, NF3FIFO, attrs)
        break
      case S_IFSOCK:
        r = await this.#engine.mknod(cred, dir.fh, name, NF3SOCK, attrs)
        break
      case S_IFCHR:
      case S_IFBLK:
        r = await this.#engine.mknod(cred, dir.fh, name, kind === S_IFCHR ? NF3CHR : NF3BLK, attrs, splitDev(rdev))
        break
      default:
        throw new FsError(EPERM, `cannot create file type ${kind.toString(8)}`)
    }
    return (await this.#created(cred, dir, name, r)).entry
  }

  async mkdir(caller: Caller, parent: number, name: string, mode: number): Promise<NodeEntry> {
    this.#writable()
    checkName(name)
    const cred = await this.#cred(caller)
    const dir = this.#nodes.get(parent)
    return (await this.#created(cred, dir, name, await this.#engine.mkdir(cred, dir.fh, name, { mode: mode & 0o7777 }))).entry
  }

  async symlink(caller: Caller, parent: number, name: string, target: string): Promise<NodeEntry> {
    this.#writable()
    checkName(name)
    const cred = await this.#cred(caller)
    const dir = this.#nodes.get(parent)
    return (await this.#created(cred, dir, name, await this.#engine.symlink(cred, dir.fh, name, { mode: 0o777 }, target))).entry
  }

  async link(caller: Caller, nodeid: number, newParent: number, newName: string): Promise<NodeEntry> {
    this.#writable()
    checkName(newName)
    const cred = await this.#cred(caller)
    const n = this.#nodes.get(nodeid)
    const dir = this.#nodes.get(newParent)
    const r = await this.#engine.link(cred, n.fh, dir.fh, newName)
    this.#nodes.dropAttr(n)
    this.#nodes.dropAttr(dir)
    const attr = r.attr ?? await this.#attrOf(cred, n)
    this.#nodes.setAttr(n, cred, attr)
    return this.#handOut(newParent, newName, n, attr)
  }

  async unlink(caller: Caller, parent: number, name: string): Promise<void> {
    this.#writable()
    checkName(name)
    const cred = await this.#cred(caller)
    const dir = this.#nodes.get(parent)
    let victim = this.#nodes.named(parent, name)
    // The names map is bounded: with files open, an unknown name is looked up to learn whether it is one of them.
    if (victim === undefined && this.#files.size > 0) {
      const r = await this.#engine.lookup(cred, dir.fh, name)
      victim = this.#nodes.byHandle(r.fh!)
    }
    if (victim !== undefined && victim.opens > 0 && victim.hidden === undefined && (victim.attr?.nlink ?? 1) <= 1) {
      // Still open here: removing it would make the server forget the handle the open file reads
      // and writes through (ESTALE). It lives on under a hidden name until its last release.
      await this.#hide(cred, dir, name, victim)
    } else {
      const r = await this.#engine.remove(cred, dir.fh, name)
      this.#dirChanged(cred, dir, r.dirAfter)
    }
    this.#nodes.unbindName(parent, name)
    // The file's other names (hard links) have a new link count.
    if (victim !== undefined) this.#nodes.dropAttr(victim)
  }

  async #hide(cred: CallCredential, dir: Node, name: string, n: Node): Promise<void> {
    const hidden = `.mapnfs-hidden-${process.pid}-${n.id}-${++this.#hiddenSeq}`
    await this.#engine.rename(cred, dir.fh, name, dir.fh, hidden)
    this.#nodes.dropAttr(dir)
    n.hidden = { dir: dir.fh, name: hidden }
  }

  async rmdir(caller: Caller, parent: number, name: string): Promise<void> {
    this.#writable()
    checkName(name)
    const cred = await this.#cred(caller)
    const dir = this.#nodes.get(parent)
    const r = await this.#engine.rmdir(cred, dir.fh, name)
    this.#dirChanged(cred, dir, r.dirAfter)
    this.#nodes.unbindName(parent, name)
  }

  async rename(caller: Caller, parent: number, name: string, newParent: number, newName: string, flags: number): Promise<void> {
    this.#writable()
    checkName(name)
    checkName(newName)
    if ((flags & ~RENAME_NOREPLACE) !== 0) throw new FsError(EINVAL, 'RENAME_EXCHANGE and RENAME_WHITEOUT are not supported over NFSv3')
    const cred = await this.#cred(caller)
    const from = this.#nodes.get(parent)
    const to = this.#nodes.get(newParent)
    if (flags & RENAME_NOREPLACE) {
      // NFSv3 has no exclusive rename: check, then rename (another client could slip in between).
      const exists = await this.#engine.lookup(cred, to.fh, newName).then(() => true, (err: { errno?: number }) => {
        if (err.errno === 2) return false
        throw err
      })
      if (exists) throw new FsError(17, `${newName} exists`)
    }
    const moved = this.#nodes.named(parent, name)
    const replaced = this.#nodes.named(newParent, newName)
    if (replaced !== undefined && replaced !== moved && replaced.opens > 0 && replaced.hidden === undefined) await this.#hide(cred, to, newName, replaced)
    await this.#engine.rename(cred, from.fh, name, to.fh, newName)
    this.#nodes.dropAttr(from)
    this.#nodes.dropAttr(to)
    this.#nodes.unbindName(parent, name)
    this.#nodes.unbindName(newParent, newName)
    if (moved !== undefined) {
      this.#nodes.dropAttr(moved)
      this.#nodes.bindName(newParent, newName, moved)
    }
    // A file the rename replaced lost a link: its other names' counts changed.
    if (replaced !== undefined && replaced !== moved) this.#nodes.dropAttr(replaced)
  }

  // ---- files ------------------------------------------------------------------------------

  async open(caller: Caller, nodeid: number, flags: number): Promise<NodeOpen> {
    const acc = flags & O_ACCMODE
    const wantsWrite = acc === O_WRONLY || acc === O_RDWR
    if (wantsWrite || flags & O_TRUNC) this.#writable()
    const cred = await this.#cred(caller)
    const n = this.#nodes.get(nodeid)
    // Close-to-open: the attributes are asked for now (within the reuse bound), and a denied open
    // fails at open() as with the kernel NFS client.
    const attr = await this.#attrOf(cred, n)
    if (attr.type !== NF3DIR) {
      const want = (acc === O_WRONLY ? 0 : ACCESS3_READ) | (wantsWrite || flags & O_TRUNC ? ACCESS3_MODIFY | ACCESS3_EXTEND : 0)
      const granted = (await this.#engine.access(cred, n.fh, want)).access ?? 0
      if ((want & ACCESS3_READ && !(granted & ACCESS3_READ)) || (want & ACCESS3_MODIFY && !(granted & (ACCESS3_MODIFY | ACCESS3_EXTEND)))) {
        throw new FsError(EACCES, 'open denied')
      }
    }
    let now = attr
    if (flags & O_TRUNC && attr.size !== 0) now = await this.#applySetattr(cred, n, { size: 0 })
    return this.#addFile(n, cred, wantsWrite, now)
  }

  async create(caller: Caller, parent: number, name: string, mode: number, flags: number): Promise<{ entry: NodeEntry; open: NodeOpen }> {
    this.#writable()
    checkName(name)
    const cred = await this.#cred(caller)
    const dir = this.#nodes.get(parent)
    let r: CreateRes
    try {
      r = await this.#engine.create(cred, dir.fh, name, { mode: GUARDED, attrs: { mode: mode & 0o7777 } })
    } catch (err) {
      // The kernel sends CREATE for a name it believed absent; another client may have made it
      // meanwhile. Without O_EXCL that is an open of the existing file.
      if ((err as { status?: number }).status !== NFS3ERR_EXIST || flags & O_EXCL) throw err
      const entry = await this.lookup(caller, parent, name)
      try {
        return { entry, open: await this.open(caller, entry.nodeid, flags) }
      } catch (openErr) {
        this.#nodes.forget(entry.nodeid, 1)
        throw openErr
      }
    }
    const { n, entry } = await this.#created(cred, dir, name, r)
    return { entry, open: this.#addFile(n, cred, true, n.attr) }
  }

  #addFile(n: Node, cred: CallCredential, writable: boolean, attr: Fattr3 | undefined): NodeOpen {
    const f: OpenFile = new OpenFile(this.#engine, n.fh, cred, writable, {
      rsize: this.#opts.rsize,
      wsize: this.#opts.wsize,
      sync: this.#opts.sync,
      writeBudget: this.#budget,
      readBudget: this.#readBudget,
      onRewrite: (k) => { this.#counters.rewrittenChunks += k },
      // Size and times changed, and a READ of any handle sent while the WRITE was on its way may predate it.
      onWritten: () => this.#changedData(n),
    })
    const fh = this.#newFh()
    this.#files.set(fh, { node: n, file: f })
    n.opens++
    // auto_cache: the page cache stays when the file is as it was at the last open or own write.
    const stamp = attr !== undefined ? versionStamp(attr) : undefined
    const keep = this.#opts.autoCache && stamp !== undefined && stamp === n.cacheStamp
    n.cacheStamp = stamp
    return { fh, openFlags: keep ? FOPEN_KEEP_CACHE : 0 }
  }

  read(fh: number, into: Buffer, length: number, offset: number): Promise<number> {
    const e = this.#file(fh)
    // The kernel may read through one handle what it wrote through another (mmap pages go out
    // through any writable handle): the file's WRITEs of every handle are answered first.
    if (this.#budget.dirty === 0) return e.file.read(into, length, offset)
    return this.#settle(e.node).then(() => e.file.read(into, length, offset))
  }

  async write(_caller: Caller, fh: number, data: Buffer, offset: number): Promise<number> {
    this.#writable()
    const e = this.#file(fh)
    // Each handle writes behind on its own: another handle's unanswered WRITEs go first, or they
    // could land after this one and undo it where they overlap.
    if (this.#budget.dirty > 0 && this.#othersDirty(e)) {
      const copy = Buffer.from(data)
      await this.#settle(e.node, e.file)
      data = copy
    }
    this.#changedData(e.node)
    const n = await e.file.write(data, offset)
    e.node.cacheStamp = undefined
    return n
  }

  #othersDirty(e: OpenEntry): boolean {
    for (const o of this.#files.values()) {
      if (o !== e && o.node === e.node && o.file.dirty) return true
    }
    return false
  }

  async flush(fh: number, lockOwner?: bigint): Promise<void> {
    const e = this.#file(fh)
    // Data first: whoever gets the lock next reads it from the server.
    await e.file.sync()
    // A lock manager still starting holds no locks of this mount: nothing to wait for.
    if (lockOwner !== undefined) await this.#startedLocks?.releaseOwner(e.node.fh, lockOwner, false)
  }

  fsync(fh: number, _datasync: boolean): Promise<void> {
    return this.#file(fh).file.sync()
  }

  async release(fh: number, flockOwner?: bigint): Promise<void> {
    const e = this.#file(fh)
    try {
      await e.file.sync()
      if (flockOwner !== undefined) await this.#startedLocks?.releaseOwner(e.node.fh, flockOwner, true)
      await this.#startedLocks?.releaseOpenFile(e.node.fh, fh)
    } finally {
      e.file.discard()
      this.#files.delete(fh)
      this.#nodes.closed(e.node)
      await this.#removeHidden(e.node, e.file.cred)
    }
  }

  /** The last open of a file unlinked while open is gone: its hidden name goes now. */
  async #removeHidden(n: Node, cred: CallCredential): Promise<void> {
    if (n.hidden === undefined || n.opens > 0) return
    const { dir, name } = n.hidden
    n.hidden = undefined
    await this.#engine.remove(cred, dir, name).catch((err: Error) => {
      this.#opts.log(`could not remove ${name} (a file unlinked while open): ${err.message}`)
    })
  }

  // ---- locks ------------------------------------------------------------------------------
  //
  // As the kernel NFS client: a lock is the point where another host's writes become visible and
  // ours must have reached the server. So dirty data goes out before a lock changes hands (lock
  // and unlock), and after a lock is taken the page cache, readahead and attributes of the file
  // are dropped, so what the new holder reads comes from the server.

  lockModes(): { posix: boolean; flock: boolean } {
    const l = this.#opts.locks
    return { posix: l?.posix ?? false, flock: l?.flock ?? false }
  }

  async getlk(caller: Caller, nodeid: number, fh: number, owner: bigint, lock: FileLock): Promise<FileLock> {
    const manager = await this.#lockManager()
    const n = this.#nodeOf(nodeid, fh)
    const cred = await this.#cred(caller)
    const r = await manager.getlk(cred.auth, n.fh, { owner, flock: false, type: lock.type, start: lock.start, end: lock.end })
    return { type: r.type, start: r.start, end: r.end, pid: r.pid }
  }

  async setlk(caller: Caller, nodeid: number, fh: number, owner: bigint, lock: FileLock, opts: SetLockOptions): Promise<void> {
    const manager = await this.#lockManager()
    const n = this.#nodeOf(nodeid, fh)
    const cred = await this.#cred(caller)
    // A failed write is reported at the next write, fsync or close, as ever; the lock goes on.
    await this.#syncNode(n).catch(() => undefined)
    await manager.setlk(cred.auth, n.fh, { owner, flock: opts.flock, type: lock.type, start: lock.start, end: lock.end, openFile: fh, pid: lock.pid }, opts.wait, opts.signal)
    if (lock.type === F_UNLCK) return
    this.#nodes.dropAttr(n)
    for (const e of this.#files.values()) if (e.node === n) e.file.dropReadAhead()
    this.#notify?.invalInode(n.id, 0, 0)
  }

  async #lockManager(): Promise<LockManager> {
    const m = await this.#opts.locks?.manager
    // Negotiated but the server has no lock manager (said at mount): as the kernel client, ENOLCK.
    if (m == null) throw new FsError(ENOLCK, 'no lock manager on the server')
    return m
  }

  async #syncNode(n: Node): Promise<void> {
    await Promise.all([...this.#files.values()].filter((e) => e.node === n).map((e) => e.file.sync()))
  }

  // ---- directories ------------------------------------------------------------------------

  /** Read permission is asked here, so a directory the caller may not list fails at open with EACCES. */
  async opendir(caller: Caller, nodeid: number): Promise<NodeOpen> {
    const cred = await this.#cred(caller)
    const n = this.#nodes.get(nodeid)
    const attr = await this.#attrOf(cred, n)
    if (attr.type !== NF3DIR) throw new FsError(ENOTDIR, 'not a directory')
    await this.#requireAccess(cred, n, ACCESS3_READ, 'listing')
    const fh = this.#newFh()
    this.#dirs.set(fh, { node: n, verf: Buffer.alloc(8), at: 0n, pending: [], cookie: 0n, eof: false, seen: new Set(), since: this.#nodes.epoch() })
    n.opens++
    return { fh, openFlags: 0 }
  }

  async readdirplus(caller: Caller, nodeid: number, fh: number, offset: bigint, sink: DirSink): Promise<void> {
    const cred = await this.#cred(caller)
    const d = this.#dirs.get(fh)
    if (d === undefined || d.node.id !== nodeid) throw new FsError(EBADF, `unknown directory handle ${fh}`)
    if (offset !== d.at) {
      // A seek (or a restart): NFS cookies resume where they were handed out; 0 starts over.
      d.pending = []
      d.cookie = offset
      d.eof = false
      d.at = offset
      if (offset === 0n) d.seen.clear()
    }
    for (;;) {
      while (d.pending.length > 0) {
        const e = d.pending[0]!
        if (!this.#give(cred, d, e, sink)) return
        d.pending.shift()
        d.at = e.cookie
      }
      if (d.eof) return
      await this.#fetch(cred, d)
    }
  }

  /** One READDIRPLUS into d.pending. */
  async #fetch(cred: CallCredential, d: OpenDir): Promise<void> {
    const since = this.#nodes.epoch()
    const r = await this.#engine.readdirplus(cred, d.node.fh, d.cookie, d.verf, READDIR_DIRCOUNT, READDIR_MAXCOUNT)
    d.verf = r.cookieverf ?? d.verf
    d.since = since
    if (r.dirAttr) this.#nodes.setAttr(d.node, cred, r.dirAttr, since)
    const entries = r.entries ?? []
    for (const e of entries) {
      // A cookie that does not advance would make us loop forever on a broken server.
      if (e.cookie === d.cookie || d.seen.has(e.cookie)) throw new FsError(EIO, 'server returned a repeating READDIRPLUS cookie')
      d.seen.add(e.cookie)
      d.cookie = e.cookie
      d.pending.push(e)
    }
    d.eof = r.eof === true
    if (!d.eof && entries.length === 0) throw new FsError(EIO, 'server returned no entries and no EOF')
  }

  /** Offers E to the kernel; counts it as a lookup only if taken. */
  #give(cred: CallCredential, d: OpenDir, e: Entryplus3, sink: DirSink): boolean {
    const dotted = e.name === '.' || e.name === '..'
    if (dotted || e.fh === undefined || e.attr === undefined) {
      return sink.add(e.name, e.cookie, dotted ? DT_DIR : direntType(e.attr), undefined, e.fileid)
    }
    const known = this.#nodes.byHandle(e.fh)
    if (known !== undefined && this.#inFlux(known, d.since)) {
      // As in lookup(): attributes that may predate our own writes are not given; the kernel
      // looks the name up itself.
      return sink.add(e.name, e.cookie, direntType(e.attr), undefined, e.fileid)
    }
    const n = known ?? this.#nodes.intern(e.fh)
    this.#nodes.setAttr(n, cred, e.attr, d.since)
    const entry = this.#entry(n, e.attr)
    if (!sink.add(e.name, e.cookie, direntType(e.attr), entry)) {
      // Not taken: a node made just for it is dropped again.
      if (known === undefined) this.#nodes.forget(n.id, 0)
      return false
    }
    this.#nodes.ref(n)
    if (this.#nodes.bindName(d.node.id, e.name, n, cred) !== undefined) this.#notify?.invalEntry(d.node.id, e.name)
    return true
  }

  async releasedir(fh: number): Promise<void> {
    const d = this.#dirs.get(fh)
    if (d === undefined) return
    this.#dirs.delete(fh)
    this.#nodes.closed(d.node)
  }

  async statfs(caller: Caller, _nodeid: number): Promise<FuseStatfs> {
    const cred = await this.#cred(caller)
    const r = await this.#engine.fsstat(cred, this.#nodes.get(1).fh)
    const frsize = 4096
    return {
      bsize: frsize,
      frsize,
      blocks: Math.floor((r.tbytes ?? 0) / frsize),
      bfree: Math.floor((r.fbytes ?? 0) / frsize),
      bavail: Math.floor((r.abytes ?? 0) / frsize),
      files: r.tfiles ?? 0,
      ffree: r.ffiles ?? 0,
      favail: r.afiles ?? 0,
      fsid: 0,
      flag: 0,
      namemax: NAME_MAX,
    }
  }

  async access(caller: Caller, nodeid: number, mask: number): Promise<void> {
    const cred = await this.#cred(caller)
    const n = this.#nodes.get(nodeid)
    const attr = await this.#attrOf(cred, n)
    if (mask === 0) return
    const isDir = attr.type === NF3DIR
    const want = accessBits(mask, isDir)
    if (mask & 2 && this.#opts.readonly) throw new FsError(EROFS, 'read-only mount')
    const granted = (await this.#engine.access(cred, n.fh, want)).access ?? 0
    if (!grants(granted, mask, isDir)) throw new FsError(EACCES, `access ${mask} denied`)
  }

  /** Commits every open file (unmount path). Resolves when all are done; logs failures. */
  async commitAll(): Promise<void> {
    await Promise.all([...this.#files.values()].map((e) => e.file.sync().catch((err: Error) => {
      this.#opts.log(`commit on unmount failed: ${err.message}`)
    })))
  }
}

const DT_DIR = 4
const DT_BY_TYPE: Record<number, number> = { 1: 8, 2: 4, 3: 6, 4: 2, 5: 10, 6: 12, 7: 1 }

function direntType(attr: Fattr3 | undefined): number {
  return attr === undefined ? 0 : DT_BY_TYPE[attr.type] ?? 0
}

function checkName(name: string): void {
  if (name.length === 0 || name === '.' || name === '..' || name.includes('/')) throw new FsError(EINVAL, `invalid name ${name}`)
  if (Buffer.byteLength(name) > NAME_MAX) throw new FsError(ENAMETOOLONG, 'name too long')
}

function versionStamp(a: Fattr3): string {
  return `${a.mtime.seconds}.${a.mtime.nseconds}:${a.size}`
}



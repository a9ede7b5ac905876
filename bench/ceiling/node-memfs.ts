// An in-memory filesystem implementing NodeOperations (src/fuse/node-operations.ts): what the
// kernel-protocol front end (src/fuse/kernel/) serves for the FUSE ceiling and for its tests. It
// answers every request at once from memory, so whatever it reaches through KernelMount is the
// most any NodeOperations can get through that front end on this machine.
//
// Node ids are inode numbers (1: the root), never reused. File data lives in CHUNK-sized Buffers
// allocated on first write; a chunk never written is a hole and reads as zeros. Permission checks
// are the kernel's (default_permissions); owners come from the caller.
//
//   Inode (file) ── chunks: (Buffer | undefined)[]   byte b is chunks[b / CHUNK][b % CHUNK]
//   Inode (dir)  ── entries: Map<name, Inode>, parent
//   handles: Map<fh, Inode | DirHandle>   an unlinked file lives on while open or looked up
import { constants } from 'node:os'
import type { Caller } from '../../src/identity/index.js'
import { FsError } from '../../src/fuse/errno.js'
import type {
  DirSink, KernelNotifier, Negotiated, NodeAttr, NodeEntry, NodeOpen, NodeOperations, SetAttrs,
} from '../../src/fuse/node-operations.js'
import type { FuseStatfs, TimeArg } from '../../src/fuse/operations.js'
import type { FuseStat } from '../../src/fuse/stat.js'
import type { NfsTime3 } from '../../src/xdr/types.js'

/** 1 MiB: a 1 MiB request aligned to 1 MiB touches one chunk; a 1 GiB file is 1024 Buffers. */
const CHUNK = 1024 * 1024
const ZERO = Buffer.alloc(CHUNK)

const { ENOENT, ENOTDIR, EISDIR, EEXIST, ENOTEMPTY, EBADF, EINVAL, EPERM, ENAMETOOLONG } = constants.errno
const S_IFMT = 0o170000
const S_IFREG = 0o100000
const S_IFDIR = 0o040000
const S_IFLNK = 0o120000
const S_ISUID = 0o4000
const S_ISGID = 0o2000
const O_TRUNC = 0o1000
const RENAME_NOREPLACE = 1
const NAME_MAX = 255
const DT_DIR = 4

interface Inode {
  id: number
  ino: bigint
  mode: number
  uid: number
  gid: number
  nlink: number
  size: number
  rdev: number
  atime: NfsTime3
  mtime: NfsTime3
  ctime: NfsTime3
  /** References the kernel holds (entry replies minus forgets). */
  nlookup: number
  opens: number
  chunks?: (Buffer | undefined)[]
  entries?: Map<string, Inode>
  parent?: Inode
  target?: string
}

interface DirHandle {
  dir: Inode
  /** The listing taken at offset 0: cookies are indexes into it, stable across the calls. */
  names: string[]
  nodes: Inode[]
}

function now(): NfsTime3 {
  const ms = Date.now()
  return { seconds: Math.floor(ms / 1000), nseconds: (ms % 1000) * 1e6 }
}

function fail(errno: number, what: string): never {
  throw new FsError(errno, what)
}

function timeOf(t: TimeArg, old: NfsTime3): NfsTime3 {
  return t === 'now' ? now() : t === 'omit' ? old : t
}

export interface NodeMemFsOptions {
  /** Entry and attribute timeouts handed to the kernel, in seconds (0: every stat reaches us). */
  cacheSeconds?: number
}

export class NodeMemFs implements NodeOperations {
  /** Largest READ / WRITE seen (the tests check that 1 MiB requests arrive). */
  largestWrite = 0
  largestRead = 0
  negotiated: Negotiated | undefined
  notifier: KernelNotifier | undefined

  readonly #nodes = new Map<number, Inode>()
  readonly #handles = new Map<number, { file: Inode } | { dir: DirHandle }>()
  readonly #ttl: number
  #nextId = 1
  #nextFh = 1

  constructor(o: NodeMemFsOptions = {}) {
    this.#ttl = o.cacheSeconds ?? 0
    const root = this.#make(S_IFDIR | 0o777, { uid: 0, gid: 0, pid: 0 }, undefined)
    root.nlink = 2
    root.nlookup = 1
  }

  init(negotiated: Negotiated, notify: KernelNotifier): void {
    this.negotiated = negotiated
    this.notifier = notify
  }

  // ---- tree -------------------------------------------------------------------------------

  #make(mode: number, c: Caller, parent: Inode | undefined): Inode {
    const t = now()
    const id = this.#nextId++
    const n: Inode = { id, ino: BigInt(id), mode, uid: c.uid, gid: c.gid, nlink: 1, size: 0, rdev: 0, atime: t, mtime: t, ctime: t, nlookup: 0, opens: 0 }
    if ((mode & S_IFMT) === S_IFDIR) {
      n.entries = new Map()
      n.parent = parent ?? n
      n.nlink = 2
    }
    if ((mode & S_IFMT) === S_IFREG) n.chunks = []
    this.#nodes.set(id, n)
    return n
  }

  #node(id: number): Inode {
    return this.#nodes.get(id) ?? fail(ENOENT, `node ${id}`)
  }

  #dir(id: number): Inode {
    const d = this.#node(id)
    if (!d.entries) fail(ENOTDIR, `node ${id}`)
    return d
  }

  #file(fh: number): Inode {
    const h = this.#handles.get(fh)
    if (h === undefined || !('file' in h)) fail(EBADF, `fh ${fh}`)
    return h.file
  }

  /** Frees N once nothing refers to it: no name, no kernel reference, no open handle. */
  #maybeFree(n: Inode): void {
    if (n.nlink === 0 && n.nlookup === 0 && n.opens === 0 && n.id !== 1) this.#nodes.delete(n.id)
  }

  #stat(n: Inode): FuseStat {
    return {
      mode: n.mode, uid: n.uid, gid: n.gid, size: n.size, dev: 0, nlink: n.nlink, ino: n.ino, rdev: n.rdev,
      blksize: 4096, blocks: Math.ceil(n.size / 512), atime: n.atime, mtime: n.mtime, ctime: n.ctime,
    }
  }

  /** An entry for the kernel: counts one lookup. */
  #entry(n: Inode): NodeEntry {
    n.nlookup++
    return { nodeid: n.id, generation: 0, attr: this.#stat(n), entryTimeout: this.#ttl, attrTimeout: this.#ttl }
  }

  #attr(n: Inode): NodeAttr {
    return { attr: this.#stat(n), attrTimeout: this.#ttl }
  }

  #add(dir: Inode, name: string, n: Inode): void {
    if (Buffer.byteLength(name) > NAME_MAX) fail(ENAMETOOLONG, name)
    if (dir.entries!.has(name)) fail(EEXIST, name)
    dir.entries!.set(name, n)
    if (n.entries) dir.nlink++
    dir.mtime = dir.ctime = now()
  }

  /** Drops one name of N (a directory's only one). */
  #unlinked(n: Inode): void {
    n.nlink = n.entries ? 0 : n.nlink - 1
    n.ctime = now()
    this.#maybeFree(n)
  }

  #resize(n: Inode, size: number): void {
    if (!n.chunks) fail(n.entries ? EISDIR : EINVAL, 'not a regular file')
    if (size < n.size) {
      const keep = Math.ceil(size / CHUNK)
      n.chunks.length = Math.min(n.chunks.length, keep)
      if (size % CHUNK !== 0) n.chunks[keep - 1]?.fill(0, size % CHUNK)
    }
    n.size = size
    n.mtime = n.ctime = now()
  }

  // ---- NodeOperations ---------------------------------------------------------------------

  async lookup(_c: Caller, parent: number, name: string): Promise<NodeEntry> {
    const dir = this.#dir(parent)
    // "." and ".." only come with EXPORT_SUPPORT (an NFS re-export of the mount).
    const n = name === '.' ? dir : name === '..' ? dir.parent! : dir.entries!.get(name)
    return this.#entry(n ?? fail(ENOENT, name))
  }

  forget(nodeid: number, nlookup: number): void {
    const n = this.#nodes.get(nodeid)
    if (n === undefined || n.id === 1) return
    n.nlookup = Math.max(0, n.nlookup - nlookup)
    this.#maybeFree(n)
  }

  async getattr(_c: Caller, nodeid: number, fh: number | undefined): Promise<NodeAttr> {
    return this.#attr(fh !== undefined && this.#handles.has(fh) ? this.#file(fh) : this.#node(nodeid))
  }

  async setattr(_c: Caller, nodeid: number, fh: number | undefined, set: SetAttrs): Promise<NodeAttr> {
    const n = fh !== undefined && this.#handles.has(fh) ? this.#file(fh) : this.#node(nodeid)
    if (set.size !== undefined) this.#resize(n, set.size)
    if (set.mode !== undefined) n.mode = (n.mode & S_IFMT) | (set.mode & 0o7777)
    if (set.uid !== undefined) n.uid = set.uid
    if (set.gid !== undefined) n.gid = set.gid
    if (set.killSuidGid) n.mode &= ~(S_ISUID | S_ISGID)
    if (set.atime !== undefined) n.atime = timeOf(set.atime, n.atime)
    if (set.mtime !== undefined) n.mtime = timeOf(set.mtime, n.mtime)
    n.ctime = now()
    return this.#attr(n)
  }

  async readlink(_c: Caller, nodeid: number): Promise<string> {
    return this.#node(nodeid).target ?? fail(EINVAL, 'not a symlink')
  }

  async mknod(c: Caller, parent: number, name: string, mode: number, rdev: number): Promise<NodeEntry> {
    const dir = this.#dir(parent)
    if ((mode & S_IFMT) === S_IFDIR) fail(EINVAL, 'mknod of a directory')
    const n = this.#make(mode, c, dir)
    n.rdev = rdev
    this.#addNew(dir, name, n)
    return this.#entry(n)
  }

  async mkdir(c: Caller, parent: number, name: string, mode: number): Promise<NodeEntry> {
    const dir = this.#dir(parent)
    const n = this.#make(S_IFDIR | (mode & 0o7777), c, dir)
    this.#addNew(dir, name, n)
    return this.#entry(n)
  }

  async symlink(c: Caller, parent: number, name: string, target: string): Promise<NodeEntry> {
    const dir = this.#dir(parent)
    const n = this.#make(S_IFLNK | 0o777, c, dir)
    n.target = target
    n.size = Buffer.byteLength(target)
    this.#addNew(dir, name, n)
    return this.#entry(n)
  }

  /** Adds a node made for NAME; a refused name drops it again. */
  #addNew(dir: Inode, name: string, n: Inode): void {
    try {
      this.#add(dir, name, n)
    } catch (err) {
      this.#nodes.delete(n.id)
      throw err
    }
  }

  async link(_c: Caller, nodeid: number, newParent: number, newName: string): Promise<NodeEntry> {
    const n = this.#node(nodeid)
    if (n.entries) fail(EPERM, 'hard link of a directory')
    this.#add(this.#dir(newParent), newName, n)
    n.nlink++
    n.ctime = now()
    return this.#entry(n)
  }

  async unlink(_c: Caller, parent: number, name: string): Promise<void> {
    const dir = this.#dir(parent)
    const n = dir.entries!.get(name) ?? fail(ENOENT, name)
    if (n.entries) fail(EISDIR, name)
    dir.entries!.delete(name)
    dir.mtime = dir.ctime = now()
    this.#unlinked(n)
  }

  async rmdir(_c: Caller, parent: number, name: string): Promise<void> {
    const dir = this.#dir(parent)
    const n = dir.entries!.get(name) ?? fail(ENOENT, name)
    if (!n.entries) fail(ENOTDIR, name)
    if (n.entries.size > 0) fail(ENOTEMPTY, name)
    dir.entries!.delete(name)
    dir.nlink--
    dir.mtime = dir.ctime = now()
    this.#unlinked(n)
  }

  async rename(_c: Caller, parent: number, name: string, newParent: number, newName: string, flags: number): Promise<void> {
    const from = this.#dir(parent)
    const to = this.#dir(newParent)
    if ((flags & ~RENAME_NOREPLACE) !== 0) fail(EINVAL, 'RENAME_EXCHANGE / WHITEOUT not supported')
    const n = from.entries!.get(name) ?? fail(ENOENT, name)
    if (Buffer.byteLength(newName) > NAME_MAX) fail(ENAMETOOLONG, newName)
    for (let p = to; ; p = p.parent!) {
      if (p === n) fail(EINVAL, 'rename into itself')
      if (p.parent === p) break
    }
    const old = to.entries!.get(newName)
    if (old === n) return
    if (old !== undefined) {
      if (flags & RENAME_NOREPLACE) fail(EEXIST, newName)
      if (old.entries && !n.entries) fail(EISDIR, newName)
      if (!old.entries && n.entries) fail(ENOTDIR, newName)
      if (old.entries && old.entries.size > 0) fail(ENOTEMPTY, newName)
      to.entries!.delete(newName)
      if (old.entries) to.nlink--
      this.#unlinked(old)
    }
    from.entries!.delete(name)
    to.entries!.set(newName, n)
    if (n.entries && from !== to) {
      from.nlink--
      to.nlink++
      n.parent = to
    }
    const t = now()
    from.mtime = from.ctime = to.mtime = to.ctime = n.ctime = t
  }

  #openHandle(n: Inode): NodeOpen {
    const fh = this.#nextFh++
    this.#handles.set(fh, { file: n })
    n.opens++
    return { fh, openFlags: 0 }
  }

  async open(_c: Caller, nodeid: number, flags: number): Promise<NodeOpen> {
    const n = this.#node(nodeid)
    if (n.entries) fail(EISDIR, `node ${nodeid}`)
    if (flags & O_TRUNC && n.chunks && n.size !== 0) this.#resize(n, 0)
    return this.#openHandle(n)
  }

  async create(c: Caller, parent: number, name: string, mode: number, _flags: number): Promise<{ entry: NodeEntry; open: NodeOpen }> {
    const dir = this.#dir(parent)
    const n = this.#make(S_IFREG | (mode & 0o7777), c, dir)
    this.#addNew(dir, name, n)
    return { entry: this.#entry(n), open: this.#openHandle(n) }
  }

  async read(fh: number, into: Buffer, length: number, offset: number): Promise<number> {
    const n = this.#file(fh)
    if (length > this.largestRead) this.largestRead = length
    const end = Math.min(n.size, offset + length)
    let pos = offset
    while (pos < end) {
      const ci = Math.floor(pos / CHUNK)
      const co = pos % CHUNK
      const k = Math.min(CHUNK - co, end - pos)
      ;(n.chunks![ci] ?? ZERO).copy(into, pos - offset, co, co + k)
      pos += k
    }
    return Math.max(0, end - offset)
  }

  async write(_c: Caller, fh: number, data: Buffer, offset: number): Promise<number> {
    // Copied before this returns: DATA is the session's read buffer.
    const n = this.#file(fh)
    const len = data.length
    if (len > this.largestWrite) this.largestWrite = len
    let done = 0
    while (done < len) {
      const pos = offset + done
      const ci = Math.floor(pos / CHUNK)
      const co = pos % CHUNK
      const k = Math.min(CHUNK - co, len - done)
      let c = n.chunks![ci]
      if (c === undefined) {
        c = Buffer.alloc(CHUNK)
        n.chunks![ci] = c
      }
      data.copy(c, co, done, done + k)
      done += k
    }
    if (offset + len > n.size) n.size = offset + len
    n.mtime = n.ctime = now()
    return len
  }

  async flush(fh: number): Promise<void> {
    this.#file(fh)
  }

  async fsync(fh: number, _datasync: boolean): Promise<void> {
    this.#file(fh)
  }

  async release(fh: number): Promise<void> {
    const n = this.#file(fh)
    this.#handles.delete(fh)
    n.opens--
    this.#maybeFree(n)
  }

  async opendir(_c: Caller, nodeid: number): Promise<NodeOpen> {
    const dir = this.#dir(nodeid)
    const fh = this.#nextFh++
    this.#handles.set(fh, { dir: { dir, names: [], nodes: [] } })
    dir.opens++
    return { fh, openFlags: 0 }
  }

  async readdirplus(_c: Caller, nodeid: number, fh: number, offset: bigint, sink: DirSink): Promise<void> {
    const h = this.#handles.get(fh)
    if (h === undefined || !('dir' in h) || h.dir.dir.id !== nodeid) fail(EBADF, `dir fh ${fh}`)
    const d = h.dir
    if (offset === 0n) {
      d.names = ['.', '..', ...d.dir.entries!.keys()]
      d.nodes = [d.dir, d.dir.parent!, ...d.dir.entries!.values()]
    }
    for (let i = Number(offset); i < d.names.length; i++) {
      const name = d.names[i]!
      const n = d.nodes[i]!
      const type = (n.mode & S_IFMT) >> 12
      if (i < 2) {
        if (!sink.add(name, BigInt(i + 1), DT_DIR, undefined, n.ino)) return
        continue
      }
      // Counted only if the kernel takes it (add() true); a node unlinked since the snapshot is skipped.
      if (!this.#nodes.has(n.id)) continue
      const entry: NodeEntry = { nodeid: n.id, generation: 0, attr: this.#stat(n), entryTimeout: this.#ttl, attrTimeout: this.#ttl }
      if (!sink.add(name, BigInt(i + 1), type, entry)) return
      n.nlookup++
    }
  }

  async releasedir(fh: number): Promise<void> {
    const h = this.#handles.get(fh)
    if (h === undefined || !('dir' in h)) return
    this.#handles.delete(fh)
    h.dir.dir.opens--
    this.#maybeFree(h.dir.dir)
  }

  async statfs(_c: Caller, _nodeid: number): Promise<FuseStatfs> {
    const files = 1 << 24
    return {
      bsize: 4096, frsize: 4096, blocks: 1 << 28, bfree: 1 << 27, bavail: 1 << 27,
      files, ffree: files - this.#nodes.size, favail: files - this.#nodes.size, fsid: 0, flag: 0, namemax: NAME_MAX,
    }
  }

  async access(_c: Caller, nodeid: number, _mask: number): Promise<void> {
    this.#node(nodeid)
  }

  /** The names in directory NODEID (for tests that send the kernel invalidations). */
  namesIn(nodeid: number): string[] {
    return [...this.#dir(nodeid).entries!.keys()]
  }

  /** Nodes alive (for tests: forgets and unlinks free them). */
  get nodeCount(): number {
    return this.#nodes.size
  }
}

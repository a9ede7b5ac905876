// An in-memory filesystem implementing FuseOperations (src/fuse/operations.ts). Mounted through
// the same adapter and options as mapnfs (bench/ceiling/serve.ts), it answers every request at
// once from memory: whatever it reaches is the FUSE ceiling of this machine, the most any daemon
// built on fuse-native and libfuse 2.9 can do here, NFS or not.
//
// It is correct enough for fio and the metadata loads, nothing more: one tree of inodes, owners
// from the caller, permission checks left to the kernel (default_permissions, as mapnfs mounts).
// File data lives in CHUNK-sized Buffers allocated on first write; a chunk never written is a hole
// and reads as zeros, so truncating a file to 1 GiB costs nothing.
//
//   Inode (file) ── chunks: Map<index, Buffer(CHUNK)>   byte b is chunks[b / CHUNK][b % CHUNK]
//   Inode (dir)  ── entries: Map<name, Inode>
//   fds: Map<fd, Inode>  (an unlinked file stays readable through its open fds)
import { constants } from 'node:os'
import type { FuseOperations, FuseStatfs, TimeArg } from '../../src/fuse/operations.js'
import type { FuseStat } from '../../src/fuse/stat.js'
import { FsError } from '../../src/fuse/errno.js'
import type { Caller } from '../../src/identity/index.js'
import type { NfsTime3 } from '../../src/xdr/types.js'

/**
 * 1 MiB: the kernel sends 128 KiB reads and writes, so a request touches at most two chunks, and a
 * 1 GiB file is 1024 Buffers (few enough that the Map costs nothing next to the copies).
 */
const CHUNK = 1024 * 1024

const { ENOENT, ENOTDIR, EISDIR, EEXIST, ENOTEMPTY, EBADF, EINVAL } = constants.errno
const S_IFMT = 0o170000
const S_IFREG = 0o100000
const S_IFDIR = 0o040000
const S_IFLNK = 0o120000
/** (uid_t)-1 in chown: leave unchanged. */
const UNCHANGED = 0xffffffff

interface Inode {
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
  chunks?: Map<number, Buffer>
  entries?: Map<string, Inode>
  target?: string
}

function now(): NfsTime3 {
  const ms = Date.now()
  return { seconds: Math.floor(ms / 1000), nseconds: (ms % 1000) * 1e6 }
}

function fail(errno: number, what: string): never {
  throw new FsError(errno, what)
}

export class MemFs implements FuseOperations {
  #nextIno = 1n
  readonly #root: Inode
  readonly #fds = new Map<number, Inode>()
  #nextFd = 1

  constructor() {
    this.#root = this.#inode(S_IFDIR | 0o777, { uid: 0, gid: 0, pid: 0 })
    this.#root.nlink = 2
  }

  // ---- tree ---------------------------------------------------------------------------------

  #inode(mode: number, c: Caller): Inode {
    const t = now()
    const node: Inode = { ino: this.#nextIno++, mode, uid: c.uid, gid: c.gid, nlink: 1, size: 0, rdev: 0, atime: t, mtime: t, ctime: t }
    if ((mode & S_IFMT) === S_IFDIR) node.entries = new Map()
    if ((mode & S_IFMT) === S_IFREG) node.chunks = new Map()
    return node
  }

  #lookup(path: string): Inode {
    let node = this.#root
    for (const name of path.split('/')) {
      if (name === '') continue
      const next = node.entries?.get(name)
      if (next === undefined) fail(node.entries ? ENOENT : ENOTDIR, path)
      node = next
    }
    return node
  }

  /** The directory holding PATH's last component, and that component. */
  #parent(path: string): [Inode, string] {
    const i = path.lastIndexOf('/')
    const dir = this.#lookup(path.slice(0, i))
    if (!dir.entries) fail(ENOTDIR, path)
    return [dir, path.slice(i + 1)]
  }

  #add(path: string, node: Inode): void {
    const [dir, name] = this.#parent(path)
    if (dir.entries!.has(name)) fail(EEXIST, path)
    dir.entries!.set(name, node)
    if (node.entries) dir.nlink++
    dir.mtime = dir.ctime = now()
  }

  #fd(fd: number): Inode {
    return this.#fds.get(fd) ?? fail(EBADF, `fd ${fd}`)
  }

  #open(node: Inode): number {
    const fd = this.#nextFd++
    this.#fds.set(fd, node)
    return fd
  }

  #stat(n: Inode): FuseStat {
    return {
      mode: n.mode, uid: n.uid, gid: n.gid, size: n.size, dev: 0, nlink: n.nlink, ino: n.ino, rdev: n.rdev,
      blksize: 4096, blocks: (n.chunks?.size ?? 0) * (CHUNK / 512), atime: n.atime, mtime: n.mtime, ctime: n.ctime,
    }
  }

  /** Sets the size; what lies past a shrink is dropped (and reads as zeros if the file grows again). */
  #resize(n: Inode, size: number): void {
    if (!n.chunks) fail(n.entries ? EISDIR : EINVAL, 'not a regular file')
    if (size < n.size) {
      for (const idx of n.chunks.keys()) if (idx * CHUNK >= size) n.chunks.delete(idx)
      n.chunks.get(Math.floor(size / CHUNK))?.fill(0, size % CHUNK)
    }
    n.size = size
    n.mtime = n.ctime = now()
  }

  // ---- FuseOperations -----------------------------------------------------------------------

  async getattr(_c: Caller, path: string): Promise<FuseStat> {
    return this.#stat(this.#lookup(path))
  }

  async fgetattr(_c: Caller, fd: number): Promise<FuseStat> {
    return this.#stat(this.#fd(fd))
  }

  async access(_c: Caller, path: string): Promise<void> {
    this.#lookup(path)
  }

  async statfs(): Promise<FuseStatfs> {
    const big = 2 ** 31
    return { bsize: 4096, frsize: 4096, blocks: big, bfree: big, bavail: big, files: big, ffree: big, favail: big, fsid: 0, flag: 0, namemax: 255 }
  }

  async opendir(_c: Caller, path: string): Promise<void> {
    if (!this.#lookup(path).entries) fail(ENOTDIR, path)
  }

  async readdir(_c: Caller, path: string): Promise<string[]> {
    const dir = this.#lookup(path)
    if (!dir.entries) fail(ENOTDIR, path)
    return ['.', '..', ...dir.entries.keys()]
  }

  async open(_c: Caller, path: string): Promise<number> {
    return this.#open(this.#lookup(path))
  }

  async create(c: Caller, path: string, mode: number): Promise<number> {
    const node = this.#inode(S_IFREG | (mode & 0o7777), c)
    this.#add(path, node)
    return this.#open(node)
  }

  async read(fd: number, into: Buffer, length: number, offset: number): Promise<number> {
    const n = this.#fd(fd)
    if (!n.chunks) fail(EISDIR, `fd ${fd}`)
    const end = Math.min(n.size, offset + length)
    let pos = offset
    while (pos < end) {
      const at = pos % CHUNK
      const len = Math.min(CHUNK - at, end - pos)
      const chunk = n.chunks.get(Math.floor(pos / CHUNK))
      if (chunk) chunk.copy(into, pos - offset, at, at + len)
      else into.fill(0, pos - offset, pos - offset + len)
      pos += len
    }
    return Math.max(0, end - offset)
  }

  async write(fd: number, data: Buffer, offset: number): Promise<number> {
    const n = this.#fd(fd)
    if (!n.chunks) fail(EISDIR, `fd ${fd}`)
    let done = 0
    while (done < data.length) {
      const pos = offset + done
      const at = pos % CHUNK
      const len = Math.min(CHUNK - at, data.length - done)
      const idx = Math.floor(pos / CHUNK)
      let chunk = n.chunks.get(idx)
      if (!chunk) n.chunks.set(idx, (chunk = Buffer.alloc(CHUNK)))
      data.copy(chunk, at, done, done + len)
      done += len
    }
    n.size = Math.max(n.size, offset + data.length)
    n.mtime = n.ctime = now()
    return data.length
  }

  async flush(fd: number): Promise<void> {
    this.#fd(fd)
  }

  async fsync(fd: number): Promise<void> {
    this.#fd(fd)
  }

  async release(fd: number): Promise<void> {
    this.#fd(fd)
    this.#fds.delete(fd)
  }

  async truncate(_c: Caller, path: string, size: number): Promise<void> {
    this.#resize(this.#lookup(path), size)
  }

  async ftruncate(_c: Caller, fd: number, size: number): Promise<void> {
    this.#resize(this.#fd(fd), size)
  }

  async chmod(_c: Caller, path: string, mode: number): Promise<void> {
    const n = this.#lookup(path)
    n.mode = (n.mode & S_IFMT) | (mode & 0o7777)
    n.ctime = now()
  }

  async chown(_c: Caller, path: string, uid: number, gid: number): Promise<void> {
    const n = this.#lookup(path)
    if (uid !== UNCHANGED && uid !== -1) n.uid = uid
    if (gid !== UNCHANGED && gid !== -1) n.gid = gid
    n.ctime = now()
  }

  async utimens(_c: Caller, path: string, atime: TimeArg, mtime: TimeArg): Promise<void> {
    const n = this.#lookup(path)
    const t = now()
    if (atime !== 'omit') n.atime = atime === 'now' ? t : atime
    if (mtime !== 'omit') n.mtime = mtime === 'now' ? t : mtime
    n.ctime = t
  }

  async mkdir(c: Caller, path: string, mode: number): Promise<void> {
    const node = this.#inode(S_IFDIR | (mode & 0o7777), c)
    node.nlink = 2
    this.#add(path, node)
  }

  async rmdir(_c: Caller, path: string): Promise<void> {
    const [dir, name] = this.#parent(path)
    const node = dir.entries!.get(name) ?? fail(ENOENT, path)
    if (!node.entries) fail(ENOTDIR, path)
    if (node.entries.size > 0) fail(ENOTEMPTY, path)
    dir.entries!.delete(name)
    dir.nlink--
    dir.mtime = dir.ctime = now()
  }

  async unlink(_c: Caller, path: string): Promise<void> {
    const [dir, name] = this.#parent(path)
    const node = dir.entries!.get(name) ?? fail(ENOENT, path)
    if (node.entries) fail(EISDIR, path)
    dir.entries!.delete(name)
    node.nlink--
    dir.mtime = dir.ctime = node.ctime = now()
  }

  async rename(_c: Caller, from: string, to: string): Promise<void> {
    const [fromDir, fromName] = this.#parent(from)
    const node = fromDir.entries!.get(fromName) ?? fail(ENOENT, from)
    const [toDir, toName] = this.#parent(to)
    const old = toDir.entries!.get(toName)
    if (old === node) return
    if (old?.entries && old.entries.size > 0) fail(ENOTEMPTY, to)
    if (old && Boolean(old.entries) !== Boolean(node.entries)) fail(old.entries ? EISDIR : ENOTDIR, to)
    fromDir.entries!.delete(fromName)
    toDir.entries!.set(toName, node)
    if (node.entries && fromDir !== toDir) {
      fromDir.nlink--
      if (!old) toDir.nlink++
    }
    if (old) old.nlink--
    fromDir.mtime = fromDir.ctime = toDir.mtime = toDir.ctime = node.ctime = now()
  }

  async symlink(c: Caller, target: string, path: string): Promise<void> {
    const node = this.#inode(S_IFLNK | 0o777, c)
    node.target = target
    node.size = Buffer.byteLength(target)
    this.#add(path, node)
  }

  async readlink(_c: Caller, path: string): Promise<string> {
    return this.#lookup(path).target ?? fail(EINVAL, path)
  }

  async link(_c: Caller, from: string, to: string): Promise<void> {
    const node = this.#lookup(from)
    if (node.entries) fail(EISDIR, from)
    this.#add(to, node)
    node.nlink++
    node.ctime = now()
  }

  async mknod(c: Caller, path: string, mode: number, dev: number): Promise<void> {
    const node = this.#inode(mode, c)
    node.rdev = dev
    this.#add(path, node)
  }
}

// What the FUSE kernel-protocol session (src/fuse/kernel/) asks of a filesystem: the kernel's own
// terms, node ids and file handles instead of paths. The NFS filesystem (nfs-nodes.ts) implements
// it over NFS file handles; the benchmarks' in-memory filesystem implements it too, so both are
// served by the very same session (the FUSE ceiling).
//
// Node ids are the filesystem's to choose (1 is the root); every reply that hands the kernel an
// entry (lookup, create, mkdir, mknod, symlink, link, and each READDIRPLUS entry it accepts) adds
// one to that node's lookup count, and forget() takes them back. A node must stay known while its
// count is above zero; after that the filesystem may drop it.
//
// Every method resolves with its result or rejects with an error carrying a positive `errno` (see
// errno.ts); the session turns that into the reply's negative error.
import type { Caller } from '../identity/index.js'
import type { FuseStatfs, TimeArg } from './operations.js'
import type { FuseStat } from './stat.js'

export const ROOT_NODE = 1

/** An entry for the kernel: the node, its attributes, and how long the kernel may keep each. */
export interface NodeEntry {
  nodeid: number
  /** With nodeid, unique over the filesystem's life (NFS: always 0; node ids are never reused). */
  generation: number
  attr: FuseStat
  /** Seconds the kernel may trust the name -> node binding (0: ask again on every path walk). */
  entryTimeout: number
  /** Seconds the kernel may trust attr. */
  attrTimeout: number
}

export interface NodeAttr {
  attr: FuseStat
  attrTimeout: number
}

/** FOPEN_* flags of an open reply (fuse.h). */
export const FOPEN_DIRECT_IO = 1 << 0
export const FOPEN_KEEP_CACHE = 1 << 1
export const FOPEN_NONSEEKABLE = 1 << 2

export interface NodeOpen {
  /** The handle the kernel passes back on read/write/flush/fsync/release (a safe integer). */
  fh: number
  /** FOPEN_* flags: KEEP_CACHE keeps the page cache of the file across this open. */
  openFlags: number
}

/** What a SETATTR changes: only the fields present. */
export interface SetAttrs {
  mode?: number
  uid?: number
  gid?: number
  size?: number
  atime?: TimeArg
  mtime?: TimeArg
  /** FATTR_KILL_SUIDGID: a write or truncate by a non-owner; the S_ISUID/S_ISGID bits go. */
  killSuidGid?: boolean
}

/**
 * Where readdirplus puts its entries. add() returns false when the kernel's buffer is full: that
 * entry was not taken (and must not count as a lookup); the next request resumes at its offset.
 */
export interface DirSink {
  /**
   * NAME, the offset of the entry after it (the cookie to resume from), its node and attributes
   * (undefined for "." and ".."-like entries the kernel must look up itself: nodeid 0 then).
   * INO: the entry's st_ino when ENTRY is undefined (glibc's readdir hides an entry whose d_ino
   * is 0; without it the session puts a non-zero stand-in there).
   */
  add(name: string, nextOffset: bigint, type: number, entry: NodeEntry | undefined, ino?: bigint): boolean
}

/** What the filesystem may tell the kernel unasked (FUSE_NOTIFY_*): its own changes made the kernel's view stale. */
export interface KernelNotifier {
  /** Drop NODEID's cached attributes and its page cache from OFFSET for LENGTH bytes (LENGTH 0: to the end; OFFSET -1: attributes only). */
  invalInode(nodeid: number, offset: number, length: number): void
  /** Drop the kernel's name -> node binding NAME in directory PARENT. */
  invalEntry(parent: number, name: string): void
}

export interface Negotiated {
  writebackCache: boolean
  /** Largest WRITE / READ request the kernel will send. */
  maxWrite: number
  maxRead: number
}

/**
 * A byte-range lock as FUSE carries it (fuse_file_lock): TYPE is F_RDLCK 0, F_WRLCK 1, F_UNLCK 2;
 * END is inclusive, 0x7fffffffffffffff (OFFSET_MAX) meaning to the end of the file. PID: the
 * locking process (SETLK), or the holder to report (GETLK; 0 for one on another host).
 */
export interface FileLock {
  type: number
  start: bigint
  end: bigint
  pid: number
}

export interface SetLockOptions {
  /** F_SETLKW or a blocking flock: wait for the lock instead of failing with EAGAIN. */
  wait: boolean
  /** flock(2) (the owner is the open file) rather than fcntl (the owner is the process's descriptor table). */
  flock: boolean
  /** Aborted when the kernel sends FUSE_INTERRUPT for this request (a signal): give up with EINTR. */
  signal: AbortSignal
}

export interface NodeOperations {
  /**
   * Which locks the kernel should send (GETLK/SETLK/SETLKW) instead of keeping them on this host:
   * fcntl (posix) and flock. Asked once, at INIT; absent: both stay local.
   */
  lockModes?(): { posix: boolean; flock: boolean }
  /** F_GETLK: the lock that would conflict with LOCK of OWNER on the open file FH, or LOCK with type F_UNLCK. */
  getlk?(caller: Caller, nodeid: number, fh: number, owner: bigint, lock: FileLock): Promise<FileLock>
  /** F_SETLK(W) and flock: take, change or (type F_UNLCK) release LOCK for OWNER. */
  setlk?(caller: Caller, nodeid: number, fh: number, owner: bigint, lock: FileLock, opts: SetLockOptions): Promise<void>
  /** The connection is up (INIT answered): what the kernel agreed to, and how to tell it of changes. */
  init?(negotiated: Negotiated, notify: KernelNotifier): void
  lookup(caller: Caller, parent: number, name: string): Promise<NodeEntry>
  /** The kernel dropped NLOOKUP references to NODEID (no reply is sent). */
  forget(nodeid: number, nlookup: number): void
  /** FH: the open file the kernel asks through (fstat), when it gave one. */
  getattr(caller: Caller, nodeid: number, fh: number | undefined): Promise<NodeAttr>
  setattr(caller: Caller, nodeid: number, fh: number | undefined, set: SetAttrs): Promise<NodeAttr>
  readlink(caller: Caller, nodeid: number): Promise<string>
  mknod(caller: Caller, parent: number, name: string, mode: number, rdev: number): Promise<NodeEntry>
  mkdir(caller: Caller, parent: number, name: string, mode: number): Promise<NodeEntry>
  symlink(caller: Caller, parent: number, name: string, target: string): Promise<NodeEntry>
  link(caller: Caller, nodeid: number, newParent: number, newName: string): Promise<NodeEntry>
  unlink(caller: Caller, parent: number, name: string): Promise<void>
  rmdir(caller: Caller, parent: number, name: string): Promise<void>
  /** FLAGS: RENAME_NOREPLACE / RENAME_EXCHANGE (an implementation refuses what it cannot do with EINVAL). */
  rename(caller: Caller, parent: number, name: string, newParent: number, newName: string, flags: number): Promise<void>
  /** FLAGS: open(2) flags, O_TRUNC included (atomic O_TRUNC). */
  open(caller: Caller, nodeid: number, flags: number): Promise<NodeOpen>
  create(caller: Caller, parent: number, name: string, mode: number, flags: number): Promise<{ entry: NodeEntry; open: NodeOpen }>
  /** Fills `into` with up to `length` bytes at `offset`; resolves with the count (short only at EOF). */
  read(fh: number, into: Buffer, length: number, offset: number): Promise<number>
  /**
   * DATA is the session's buffer, valid only until write() returns its promise: whatever must be
   * kept is copied before the first await. Resolves with the bytes accepted.
   */
  write(caller: Caller, fh: number, data: Buffer, offset: number): Promise<number>
  /**
   * close(2) of one descriptor of the open file (there may be several: dup, fork). LOCK_OWNER:
   * the closing process's fcntl lock owner, whose locks on the file go with any close (POSIX).
   */
  flush(fh: number, lockOwner?: bigint): Promise<void>
  fsync(fh: number, datasync: boolean): Promise<void>
  /** The last descriptor is gone; the handle is not used again. FLOCK_OWNER: set when the open file held a flock, which goes with it. */
  release(fh: number, flockOwner?: bigint): Promise<void>
  opendir(caller: Caller, nodeid: number): Promise<NodeOpen>
  /** Entries from OFFSET (0: the start; else a nextOffset given before) into SINK until it is full or the directory ends. */
  readdirplus(caller: Caller, nodeid: number, fh: number, offset: bigint, sink: DirSink): Promise<void>
  releasedir(fh: number): Promise<void>
  statfs(caller: Caller, nodeid: number): Promise<FuseStatfs>
  /** Only asked without default_permissions (the `noperm` mount): MASK is access(2)'s R_OK|W_OK|X_OK. */
  access(caller: Caller, nodeid: number, mask: number): Promise<void>
}

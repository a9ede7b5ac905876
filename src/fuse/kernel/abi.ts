// The FUSE kernel ABI as mapnfs speaks it: protocol 7.38 (/usr/include/linux/fuse.h of Debian 12,
// FUSE_KERNEL_MINOR_VERSION 38). We answer INIT with minor 38 whatever newer minor the kernel
// offers; the kernel then sends 7.38 structs (it adapts to the daemon), except that it may still
// try opcodes it knows from later minors (STATX, 52), which we answer ENOSYS once.
//
// All integers are little-endian (the byte order of every Linux target Node runs on here).
// Values are fuse.h's, written out: never auto-numbered (style §3).

/** fuse.h FUSE_KERNEL_VERSION. */
export const FUSE_KERNEL_VERSION = 7
/** The minor we answer INIT with: the struct layouts below are those of 7.38. */
export const FUSE_KERNEL_MINOR_VERSION = 38
export const FUSE_ROOT_ID = 1
/** The kernel refuses a read(2) of /dev/fuse into a smaller buffer (EINVAL), even before INIT. */
export const FUSE_MIN_READ_BUFFER = 8192

// ---- opcodes (enum fuse_opcode) ------------------------------------------------------------
export const FUSE_LOOKUP = 1
export const FUSE_FORGET = 2
export const FUSE_GETATTR = 3
export const FUSE_SETATTR = 4
export const FUSE_READLINK = 5
export const FUSE_SYMLINK = 6
export const FUSE_MKNOD = 8
export const FUSE_MKDIR = 9
export const FUSE_UNLINK = 10
export const FUSE_RMDIR = 11
export const FUSE_RENAME = 12
export const FUSE_LINK = 13
export const FUSE_OPEN = 14
export const FUSE_READ = 15
export const FUSE_WRITE = 16
export const FUSE_STATFS = 17
export const FUSE_RELEASE = 18
export const FUSE_FSYNC = 20
export const FUSE_SETXATTR = 21
export const FUSE_GETXATTR = 22
export const FUSE_LISTXATTR = 23
export const FUSE_REMOVEXATTR = 24
export const FUSE_FLUSH = 25
export const FUSE_INIT = 26
export const FUSE_OPENDIR = 27
export const FUSE_READDIR = 28
export const FUSE_RELEASEDIR = 29
export const FUSE_FSYNCDIR = 30
export const FUSE_GETLK = 31
export const FUSE_SETLK = 32
export const FUSE_SETLKW = 33
export const FUSE_ACCESS = 34
export const FUSE_CREATE = 35
export const FUSE_INTERRUPT = 36
export const FUSE_BMAP = 37
export const FUSE_DESTROY = 38
export const FUSE_IOCTL = 39
export const FUSE_POLL = 40
export const FUSE_NOTIFY_REPLY = 41
export const FUSE_BATCH_FORGET = 42
export const FUSE_FALLOCATE = 43
export const FUSE_READDIRPLUS = 44
export const FUSE_RENAME2 = 45
export const FUSE_LSEEK = 46
export const FUSE_COPY_FILE_RANGE = 47
export const FUSE_SETUPMAPPING = 48
export const FUSE_REMOVEMAPPING = 49
export const FUSE_SYNCFS = 50
export const FUSE_TMPFILE = 51
/** Protocol 7.39 (newer than our header): sent by a 6.x kernel even to a 7.38 daemon; ENOSYS stops it. */
export const FUSE_STATX = 52

/** Lowercase op names for per-op error counting (onOpError), as the libfuse 2 front end names them. */
export const OP_NAMES: Readonly<Record<number, string>> = {
  [FUSE_LOOKUP]: 'lookup', [FUSE_FORGET]: 'forget', [FUSE_GETATTR]: 'getattr', [FUSE_SETATTR]: 'setattr',
  [FUSE_READLINK]: 'readlink', [FUSE_SYMLINK]: 'symlink', [FUSE_MKNOD]: 'mknod', [FUSE_MKDIR]: 'mkdir',
  [FUSE_UNLINK]: 'unlink', [FUSE_RMDIR]: 'rmdir', [FUSE_RENAME]: 'rename', [FUSE_LINK]: 'link',
  [FUSE_OPEN]: 'open', [FUSE_READ]: 'read', [FUSE_WRITE]: 'write', [FUSE_STATFS]: 'statfs',
  [FUSE_RELEASE]: 'release', [FUSE_FSYNC]: 'fsync', [FUSE_SETXATTR]: 'setxattr', [FUSE_GETXATTR]: 'getxattr',
  [FUSE_LISTXATTR]: 'listxattr', [FUSE_REMOVEXATTR]: 'removexattr', [FUSE_FLUSH]: 'flush', [FUSE_INIT]: 'init',
  [FUSE_OPENDIR]: 'opendir', [FUSE_READDIR]: 'readdir', [FUSE_RELEASEDIR]: 'releasedir', [FUSE_FSYNCDIR]: 'fsyncdir',
  [FUSE_GETLK]: 'getlk', [FUSE_SETLK]: 'setlk', [FUSE_SETLKW]: 'setlkw', [FUSE_ACCESS]: 'access',
  [FUSE_CREATE]: 'create', [FUSE_INTERRUPT]: 'interrupt', [FUSE_BMAP]: 'bmap', [FUSE_DESTROY]: 'destroy',
  [FUSE_IOCTL]: 'ioctl', [FUSE_POLL]: 'poll', [FUSE_NOTIFY_REPLY]: 'notify_reply', [FUSE_BATCH_FORGET]: 'batch_forget',
  [FUSE_FALLOCATE]: 'fallocate', [FUSE_READDIRPLUS]: 'readdirplus', [FUSE_RENAME2]: 'rename',
  [FUSE_LSEEK]: 'lseek', [FUSE_COPY_FILE_RANGE]: 'copy_file_range', [FUSE_SETUPMAPPING]: 'setupmapping',
  [FUSE_REMOVEMAPPING]: 'removemapping', [FUSE_SYNCFS]: 'syncfs', [FUSE_TMPFILE]: 'tmpfile', [FUSE_STATX]: 'statx',
}

// ---- INIT flags (fuse_init_in/out.flags; bits 32+ live in flags2 when INIT_EXT is set) --------
export const FUSE_ASYNC_READ = 1 << 0
export const FUSE_POSIX_LOCKS = 1 << 1
export const FUSE_FILE_OPS = 1 << 2
export const FUSE_ATOMIC_O_TRUNC = 1 << 3
export const FUSE_EXPORT_SUPPORT = 1 << 4
export const FUSE_BIG_WRITES = 1 << 5
export const FUSE_DONT_MASK = 1 << 6
export const FUSE_SPLICE_WRITE = 1 << 7
export const FUSE_SPLICE_MOVE = 1 << 8
export const FUSE_SPLICE_READ = 1 << 9
export const FUSE_FLOCK_LOCKS = 1 << 10
export const FUSE_HAS_IOCTL_DIR = 1 << 11
export const FUSE_AUTO_INVAL_DATA = 1 << 12
export const FUSE_DO_READDIRPLUS = 1 << 13
export const FUSE_READDIRPLUS_AUTO = 1 << 14
export const FUSE_ASYNC_DIO = 1 << 15
export const FUSE_WRITEBACK_CACHE = 1 << 16
export const FUSE_NO_OPEN_SUPPORT = 1 << 17
export const FUSE_PARALLEL_DIROPS = 1 << 18
export const FUSE_HANDLE_KILLPRIV = 1 << 19
export const FUSE_POSIX_ACL = 1 << 20
export const FUSE_ABORT_ERROR = 1 << 21
export const FUSE_MAX_PAGES = 1 << 22
export const FUSE_CACHE_SYMLINKS = 1 << 23
export const FUSE_NO_OPENDIR_SUPPORT = 1 << 24
export const FUSE_EXPLICIT_INVAL_DATA = 1 << 25
export const FUSE_MAP_ALIGNMENT = 1 << 26
export const FUSE_SUBMOUNTS = 1 << 27
export const FUSE_HANDLE_KILLPRIV_V2 = 1 << 28
export const FUSE_SETXATTR_EXT = 1 << 29
export const FUSE_INIT_EXT = 1 << 30
/** 1 << 31 as an unsigned value (a JS `1 << 31` is negative). */
export const FUSE_INIT_RESERVED = 0x80000000
// flags2 (bit N of the 64-bit flags is bit N - 32 here).
export const FUSE2_SECURITY_CTX = 1 << 0
export const FUSE2_HAS_INODE_DAX = 1 << 1
// Later than 7.38; named (from the kernel's fuse.h history) only to log what a kernel offers.
export const FUSE2_CREATE_SUPP_GROUP = 1 << 2
export const FUSE2_HAS_EXPIRE_ONLY = 1 << 3
export const FUSE2_DIRECT_IO_ALLOW_MMAP = 1 << 4
export const FUSE2_PASSTHROUGH = 1 << 5
export const FUSE2_NO_EXPORT_SUPPORT = 1 << 6
export const FUSE2_HAS_RESEND = 1 << 7

export const INIT_FLAG_NAMES: Readonly<Record<string, number>> = {
  ASYNC_READ: FUSE_ASYNC_READ, POSIX_LOCKS: FUSE_POSIX_LOCKS, FILE_OPS: FUSE_FILE_OPS, ATOMIC_O_TRUNC: FUSE_ATOMIC_O_TRUNC,
  EXPORT_SUPPORT: FUSE_EXPORT_SUPPORT, BIG_WRITES: FUSE_BIG_WRITES, DONT_MASK: FUSE_DONT_MASK, SPLICE_WRITE: FUSE_SPLICE_WRITE,
  SPLICE_MOVE: FUSE_SPLICE_MOVE, SPLICE_READ: FUSE_SPLICE_READ, FLOCK_LOCKS: FUSE_FLOCK_LOCKS, HAS_IOCTL_DIR: FUSE_HAS_IOCTL_DIR,
  AUTO_INVAL_DATA: FUSE_AUTO_INVAL_DATA, DO_READDIRPLUS: FUSE_DO_READDIRPLUS, READDIRPLUS_AUTO: FUSE_READDIRPLUS_AUTO,
  ASYNC_DIO: FUSE_ASYNC_DIO, WRITEBACK_CACHE: FUSE_WRITEBACK_CACHE, NO_OPEN_SUPPORT: FUSE_NO_OPEN_SUPPORT,
  PARALLEL_DIROPS: FUSE_PARALLEL_DIROPS, HANDLE_KILLPRIV: FUSE_HANDLE_KILLPRIV, POSIX_ACL: FUSE_POSIX_ACL,
  ABORT_ERROR: FUSE_ABORT_ERROR, MAX_PAGES: FUSE_MAX_PAGES, CACHE_SYMLINKS: FUSE_CACHE_SYMLINKS,
  NO_OPENDIR_SUPPORT: FUSE_NO_OPENDIR_SUPPORT, EXPLICIT_INVAL_DATA: FUSE_EXPLICIT_INVAL_DATA, MAP_ALIGNMENT: FUSE_MAP_ALIGNMENT,
  SUBMOUNTS: FUSE_SUBMOUNTS, HANDLE_KILLPRIV_V2: FUSE_HANDLE_KILLPRIV_V2, SETXATTR_EXT: FUSE_SETXATTR_EXT,
  INIT_EXT: FUSE_INIT_EXT, INIT_RESERVED: FUSE_INIT_RESERVED,
}
export const INIT_FLAG2_NAMES: Readonly<Record<string, number>> = {
  SECURITY_CTX: FUSE2_SECURITY_CTX, HAS_INODE_DAX: FUSE2_HAS_INODE_DAX, CREATE_SUPP_GROUP: FUSE2_CREATE_SUPP_GROUP,
  HAS_EXPIRE_ONLY: FUSE2_HAS_EXPIRE_ONLY, DIRECT_IO_ALLOW_MMAP: FUSE2_DIRECT_IO_ALLOW_MMAP, PASSTHROUGH: FUSE2_PASSTHROUGH,
  NO_EXPORT_SUPPORT: FUSE2_NO_EXPORT_SUPPORT, HAS_RESEND: FUSE2_HAS_RESEND,
}

/** The names of the bits set in V (unknown bits as hex), for logs and tests. */
export function flagNames(v: number, table: Readonly<Record<string, number>>): string[] {
  const out: string[] = []
  let rest = v >>> 0
  for (const [name, bit] of Object.entries(table)) {
    if (((v >>> 0) & bit) >>> 0 === bit) {
      out.push(name)
      rest = (rest & ~bit) >>> 0
    }
  }
  if (rest !== 0) out.push(`0x${rest.toString(16)}`)
  return out
}

// ---- SETATTR valid bits (fuse_setattr_in.valid) ----------------------------------------------
export const FATTR_MODE = 1 << 0
export const FATTR_UID = 1 << 1
export const FATTR_GID = 1 << 2
export const FATTR_SIZE = 1 << 3
export const FATTR_ATIME = 1 << 4
export const FATTR_MTIME = 1 << 5
export const FATTR_FH = 1 << 6
export const FATTR_ATIME_NOW = 1 << 7
export const FATTR_MTIME_NOW = 1 << 8
export const FATTR_LOCKOWNER = 1 << 9
export const FATTR_CTIME = 1 << 10
export const FATTR_KILL_SUIDGID = 1 << 11

// ---- open reply flags (fuse_open_out.open_flags); the three the filesystem uses are in node-operations.ts
export { FOPEN_DIRECT_IO, FOPEN_KEEP_CACHE, FOPEN_NONSEEKABLE } from '../node-operations.js'
export const FOPEN_CACHE_DIR = 1 << 3
export const FOPEN_STREAM = 1 << 4
export const FOPEN_NOFLUSH = 1 << 5
export const FOPEN_PARALLEL_DIRECT_WRITES = 1 << 6

// ---- request flag words -------------------------------------------------------------------
/** fuse_getattr_in.getattr_flags: fh is valid (fstat). */
export const FUSE_GETATTR_FH = 1 << 0
/** fuse_write_in.write_flags: a delayed write from the page cache (writeback cache; fh guessed). */
export const FUSE_WRITE_CACHE = 1 << 0
export const FUSE_WRITE_KILL_SUIDGID = 1 << 2
/** fuse_fsync_in.fsync_flags: fdatasync. */
export const FUSE_FSYNC_FDATASYNC = 1 << 0
/** The bit the kernel sets in an INTERRUPT request's own unique. */
export const FUSE_INT_REQ_BIT = 1

// ---- unsolicited messages (enum fuse_notify_code; sent as out_header.error with unique 0) -----
export const FUSE_NOTIFY_POLL = 1
export const FUSE_NOTIFY_INVAL_INODE = 2
export const FUSE_NOTIFY_INVAL_ENTRY = 3
export const FUSE_NOTIFY_STORE = 4
export const FUSE_NOTIFY_RETRIEVE = 5
export const FUSE_NOTIFY_DELETE = 6

// ---- struct sizes at 7.38 (bytes) ------------------------------------------------------------
/** fuse_in_header: len u32 @0, opcode u32 @4, unique u64 @8, nodeid u64 @16, uid @24, gid @28, pid @32, total_extlen u16 @36, pad u16 @38. */
export const IN_HEADER_SIZE = 40
/** fuse_out_header: len u32 @0 (whole reply), error i32 @4 (0 or -errno), unique u64 @8. */
export const OUT_HEADER_SIZE = 16
/** fuse_attr: ino, size, blocks, atime, mtime, ctime (u64); atimensec, mtimensec, ctimensec, mode, nlink, uid, gid, rdev, blksize, flags (u32). */
export const ATTR_SIZE = 88
/** fuse_entry_out: nodeid, generation, entry_valid, attr_valid (u64); entry_valid_nsec, attr_valid_nsec (u32); attr. */
export const ENTRY_OUT_SIZE = 40 + ATTR_SIZE
/** fuse_attr_out: attr_valid u64, attr_valid_nsec u32, dummy u32, attr. */
export const ATTR_OUT_SIZE = 16 + ATTR_SIZE
/** fuse_open_out: fh u64, open_flags u32, padding u32. */
export const OPEN_OUT_SIZE = 16
/** fuse_init_in: major, minor, max_readahead, flags, flags2, unused[11] (u32). */
export const INIT_IN_SIZE = 64
/** fuse_init_in before 7.36 (no flags2): what an older kernel sends. */
export const INIT_IN_COMPAT_SIZE = 16
/** fuse_init_out: major, minor, max_readahead, flags (u32); max_background, congestion_threshold (u16); max_write, time_gran (u32); max_pages, map_alignment (u16); flags2 u32; unused[7]. */
export const INIT_OUT_SIZE = 64
/** fuse_write_out: size u32, padding u32. */
export const WRITE_OUT_SIZE = 8
/** fuse_statfs_out = fuse_kstatfs: blocks, bfree, bavail, files, ffree (u64); bsize, namelen, frsize, padding, spare[6] (u32). */
export const STATFS_OUT_SIZE = 80
/** fuse_dirent before its name: ino u64, off u64, namelen u32, type u32. Records are padded to 8 bytes. */
export const DIRENT_SIZE = 24
/** fuse_direntplus before its name: entry_out then dirent. */
export const DIRENTPLUS_SIZE = ENTRY_OUT_SIZE + DIRENT_SIZE
export const FORGET_IN_SIZE = 8
export const BATCH_FORGET_IN_SIZE = 8
export const FORGET_ONE_SIZE = 16
export const GETATTR_IN_SIZE = 16
export const SETATTR_IN_SIZE = 88
export const MKNOD_IN_SIZE = 16
export const MKDIR_IN_SIZE = 8
export const RENAME_IN_SIZE = 8
export const RENAME2_IN_SIZE = 16
export const LINK_IN_SIZE = 8
export const OPEN_IN_SIZE = 8
export const CREATE_IN_SIZE = 16
export const RELEASE_IN_SIZE = 24
export const FLUSH_IN_SIZE = 24
export const READ_IN_SIZE = 40
export const WRITE_IN_SIZE = 40
export const FSYNC_IN_SIZE = 16
export const ACCESS_IN_SIZE = 8
export const INTERRUPT_IN_SIZE = 8
/** fuse_lk_in: fh u64, owner u64, lk (start u64, end u64, type u32, pid u32), lk_flags u32, padding u32. */
export const LK_IN_SIZE = 48
/** fuse_lk_out: lk. */
export const LK_OUT_SIZE = 24
/** lk_flags: the lock is a flock(2). */
export const FUSE_LK_FLOCK = 1 << 0
/** release_flags: the open file held a flock; release it with the file. */
export const FUSE_RELEASE_FLOCK_UNLOCK = 1 << 1
/** fuse_notify_inval_inode_out: ino u64, off i64, len i64. */
export const NOTIFY_INVAL_INODE_OUT_SIZE = 24
/** fuse_notify_inval_entry_out: parent u64, namelen u32, flags u32; then the name and a NUL. */
export const NOTIFY_INVAL_ENTRY_OUT_SIZE = 16

/** A dirent/direntplus record length: padded to 8 bytes (FUSE_DIRENT_ALIGN). */
export function direntAlign(n: number): number {
  return (n + 7) & ~7
}

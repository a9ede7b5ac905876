// What the FUSE adapter asks of a filesystem, in FUSE's terms (paths, fds, errno-carrying
// errors). NfsFilesystem implements it over NFS; the benchmarks' in-memory filesystem implements it
// too, so both are mounted through the very same adapter and options (the FUSE ceiling).
import type { Caller } from '../identity/index.js'
import type { NfsTime3 } from '../xdr/types.js'
import type { FuseStat } from './stat.js'

/** A time to set: exact, 'now' (UTIME_NOW: the server's clock) or 'omit' (UTIME_OMIT: leave it). */
export type TimeArg = NfsTime3 | 'now' | 'omit'

export interface FuseStatfs {
  bsize: number
  frsize: number
  blocks: number
  bfree: number
  bavail: number
  files: number
  ffree: number
  favail: number
  fsid: number
  flag: number
  namemax: number
}

/**
 * Every method resolves with its result or rejects with an error carrying a positive `errno`
 * (and a `code` starting with ERR_), which the adapter hands to the kernel.
 */
export interface FuseOperations {
  getattr(caller: Caller, path: string): Promise<FuseStat>
  fgetattr(caller: Caller, fd: number): Promise<FuseStat>
  access(caller: Caller, path: string, mode: number): Promise<void>
  statfs(caller: Caller): Promise<FuseStatfs>
  opendir(caller: Caller, path: string): Promise<void>
  readdir(caller: Caller, path: string): Promise<string[]>
  open(caller: Caller, path: string, flags: number): Promise<number>
  create(caller: Caller, path: string, mode: number): Promise<number>
  /** Fills `into` (the kernel's buffer) with up to `length` bytes; resolves with the count. */
  read(fd: number, into: Buffer, length: number, offset: number): Promise<number>
  /**
   * `data` is the kernel's buffer: valid only until write() returns its promise, so whatever must
   * be kept is copied before the first await. Resolves with the byte count accepted.
   */
  write(fd: number, data: Buffer, offset: number): Promise<number>
  flush(fd: number): Promise<void>
  fsync(fd: number): Promise<void>
  release(fd: number): Promise<void>
  truncate(caller: Caller, path: string, size: number): Promise<void>
  ftruncate(caller: Caller, fd: number, size: number): Promise<void>
  chmod(caller: Caller, path: string, mode: number): Promise<void>
  chown(caller: Caller, path: string, uid: number, gid: number): Promise<void>
  utimens(caller: Caller, path: string, atime: TimeArg, mtime: TimeArg): Promise<void>
  mkdir(caller: Caller, path: string, mode: number): Promise<void>
  rmdir(caller: Caller, path: string): Promise<void>
  unlink(caller: Caller, path: string): Promise<void>
  rename(caller: Caller, from: string, to: string): Promise<void>
  symlink(caller: Caller, target: string, path: string): Promise<void>
  readlink(caller: Caller, path: string): Promise<string>
  link(caller: Caller, from: string, to: string): Promise<void>
  mknod(caller: Caller, path: string, mode: number, dev: number): Promise<void>
}

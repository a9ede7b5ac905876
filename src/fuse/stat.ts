import type { Fattr3, NfsTime3 } from '../xdr/types.js'
import { NF3BLK, NF3CHR, NF3DIR, NF3FIFO, NF3LNK, NF3REG, NF3SOCK } from '../xdr/types.js'

export const S_IFMT = 0o170000
export const S_IFREG = 0o100000
export const S_IFDIR = 0o040000
export const S_IFLNK = 0o120000
export const S_IFCHR = 0o020000
export const S_IFBLK = 0o060000
export const S_IFIFO = 0o010000
export const S_IFSOCK = 0o140000

const TYPE_BITS: Record<number, number> = {
  [NF3REG]: S_IFREG,
  [NF3DIR]: S_IFDIR,
  [NF3BLK]: S_IFBLK,
  [NF3CHR]: S_IFCHR,
  [NF3LNK]: S_IFLNK,
  [NF3SOCK]: S_IFSOCK,
  [NF3FIFO]: S_IFIFO,
}

/** The stat shape handed to the binding (times with nanoseconds; see adapter.ts toStatArray). */
export interface FuseStat {
  mode: number
  uid: number
  gid: number
  size: number
  dev: number
  nlink: number
  ino: number
  rdev: number
  blksize: number
  blocks: number
  atime: NfsTime3
  mtime: NfsTime3
  ctime: NfsTime3
}

/** fuse-native passes st_ino as 32 bits: fold the 64-bit fileid so distinct files rarely collide. */
export function foldIno(fileid: bigint): number {
  return Number((fileid ^ (fileid >> 32n)) & 0xffffffffn)
}

export function toFuseStat(a: Fattr3): FuseStat {
  return {
    mode: (TYPE_BITS[a.type] ?? S_IFREG) | (a.mode & 0o7777),
    uid: a.uid,
    gid: a.gid,
    size: a.size,
    dev: 0,
    nlink: a.nlink,
    ino: foldIno(a.fileid),
    rdev: (((a.rdevMajor & 0xfff) << 8) | (a.rdevMinor & 0xff) | ((a.rdevMinor & 0xfff00) << 12)) >>> 0,
    blksize: 4096,
    blocks: Math.ceil(a.used / 512),
    atime: a.atime,
    mtime: a.mtime,
    ctime: a.ctime,
  }
}

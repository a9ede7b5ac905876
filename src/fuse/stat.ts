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

/** The stat shape handed to the binding (times with nanoseconds, ino 64-bit; see toStatArray). */
export interface FuseStat {
  mode: number
  uid: number
  gid: number
  size: number
  dev: number
  nlink: number
  /** The NFS fileid, exact: st_ino is 64-bit and a folded id could make two files look like one. */
  ino: bigint
  rdev: number
  blksize: number
  blocks: number
  atime: NfsTime3
  mtime: NfsTime3
  ctime: NfsTime3
}

/** A Linux dev_t as major and minor: major in bits 8-19, minor in bits 0-7 and 20-31 (new_encode_dev). */
export function splitDev(dev: number): { major: number; minor: number } {
  return { major: ((dev >>> 8) & 0xfff) >>> 0, minor: ((dev & 0xff) | ((dev >>> 12) & 0xfff00)) >>> 0 }
}

export function toFuseStat(a: Fattr3): FuseStat {
  return {
    mode: (TYPE_BITS[a.type] ?? S_IFREG) | (a.mode & 0o7777),
    uid: a.uid,
    gid: a.gid,
    size: a.size,
    dev: 0,
    nlink: a.nlink,
    ino: a.fileid,
    rdev: (((a.rdevMajor & 0xfff) << 8) | (a.rdevMinor & 0xff) | ((a.rdevMinor & 0xfff00) << 12)) >>> 0,
    blksize: 4096,
    blocks: Math.ceil(a.used / 512),
    atime: a.atime,
    mtime: a.mtime,
    ctime: a.ctime,
  }
}

/**
 * The stat array the patched binding reads (patches/fuse-native+2.2.6.patch, format 4): 19 uint32
 * words, 64-bit values as (low, high), times as (nsec, sec).
 *
 *   0 mode   1 uid   2 gid   3-4 size   5 dev   6 nlink   7-8 ino   9 rdev   10 blksize
 *   11-12 blocks   13-14 atime   15-16 mtime   17-18 ctime
 *
 * ST is undefined for a failed request: the binding reads no stat then, but takes an array.
 */
export const STAT_WORDS = 19

export function toStatArray(st: FuseStat | undefined): Uint32Array {
  const a = new Uint32Array(STAT_WORDS)
  if (!st) return a
  const put53 = (i: number, v: number): void => {
    a[i] = v % 0x100000000
    a[i + 1] = Math.floor(v / 0x100000000)
  }
  a[0] = st.mode
  a[1] = st.uid
  a[2] = st.gid
  put53(3, st.size)
  a[5] = st.dev
  a[6] = st.nlink
  a[7] = Number(st.ino & 0xffffffffn)
  a[8] = Number((st.ino >> 32n) & 0xffffffffn)
  a[9] = st.rdev
  a[10] = st.blksize
  put53(11, st.blocks)
  a[13] = st.atime.nseconds
  a[14] = st.atime.seconds
  a[15] = st.mtime.nseconds
  a[16] = st.mtime.seconds
  a[17] = st.ctime.nseconds
  a[18] = st.ctime.seconds
  return a
}

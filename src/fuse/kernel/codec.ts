// Encoders of the reply structs and decoders of the request structs of FUSE 7.38 (abi.ts has the
// layouts). All work in place on a DataView over a reused buffer: no per-request allocation but
// the strings and objects the NodeOperations interface takes.
//
// u64 fields are written and read as two u32 halves (no BigInt on the hot path) except st_ino,
// which the interface hands over as a bigint. Node ids, file handles, sizes and offsets are safe
// integers on our side; a request whose u64 is beyond 2^53 is refused (EINVAL), never rounded.
import type { DirSink, NodeAttr, NodeEntry, NodeOpen, SetAttrs } from '../node-operations.js'
import type { FuseStatfs } from '../operations.js'
import type { FuseStat } from '../stat.js'
import { clampNfsTime3 } from '../time.js'
import {
  DIRENT_SIZE, DIRENTPLUS_SIZE, ENTRY_OUT_SIZE, FATTR_ATIME, FATTR_ATIME_NOW, FATTR_FH, FATTR_GID, FATTR_KILL_SUIDGID,
  FATTR_MODE, FATTR_MTIME, FATTR_MTIME_NOW, FATTR_SIZE, FATTR_UID, FUSE_INIT_EXT, FUSE_ROOT_ID, INIT_IN_COMPAT_SIZE,
  INIT_OUT_SIZE, SETATTR_IN_SIZE, STATFS_OUT_SIZE, direntAlign,
} from './abi.js'
import { KernelFuseError } from './errors.js'

const U32 = 0x1_0000_0000
const EINVAL = 22
/** NAME_MAX: the kernel fails a whole READDIR reply (EIO) over one longer name. */
const FUSE_NAME_MAX = 1024
const NAME_MAX = 255

export function putU64(dv: DataView, off: number, v: number): void {
  dv.setUint32(off, v >>> 0, true)
  dv.setUint32(off + 4, Math.floor(v / U32) >>> 0, true)
}

/** Signed 64-bit (times before 1970). */
export function putI64(dv: DataView, off: number, v: number): void {
  dv.setUint32(off, v >>> 0, true)
  dv.setInt32(off + 4, Math.floor(v / U32), true)
}

/** A u64 field as a number; EINVAL when it is not a safe integer (a node id or handle we never gave). */
export function getU64(dv: DataView, off: number): number {
  const hi = dv.getUint32(off + 4, true)
  if (hi >= 0x200000) throw new KernelFuseError('ERR_FUSE_REQUEST', EINVAL, `u64 at ${off} beyond 2^53`)
  return hi * U32 + dv.getUint32(off, true)
}

export function getI64(dv: DataView, off: number): number {
  return dv.getInt32(off + 4, true) * U32 + dv.getUint32(off, true)
}

/** A cache timeout in seconds (fractions allowed) as the (u64 seconds @off, u32 nanoseconds @nsecOff) pair. */
function putTimeout(dv: DataView, off: number, nsecOff: number, seconds: number): void {
  const t = Number.isFinite(seconds) && seconds > 0 ? seconds : 0
  const whole = Math.floor(t)
  putU64(dv, off, whole)
  dv.setUint32(nsecOff, Math.min(999_999_999, Math.round((t - whole) * 1e9)), true)
}

/** fuse_out_header; ERROR is 0 or a negative errno (a positive one makes the kernel refuse the write). */
export function writeOutHeader(dv: DataView, len: number, error: number, uniqueLo: number, uniqueHi: number): void {
  dv.setUint32(0, len, true)
  dv.setInt32(4, error, true)
  dv.setUint32(8, uniqueLo, true)
  dv.setUint32(12, uniqueHi, true)
}

/** fuse_attr at OFF (88 bytes). */
export function writeAttr(dv: DataView, off: number, st: FuseStat): void {
  dv.setBigUint64(off, st.ino, true)
  putU64(dv, off + 8, st.size)
  putU64(dv, off + 16, st.blocks)
  putI64(dv, off + 24, st.atime.seconds)
  putI64(dv, off + 32, st.mtime.seconds)
  putI64(dv, off + 40, st.ctime.seconds)
  dv.setUint32(off + 48, st.atime.nseconds, true)
  dv.setUint32(off + 52, st.mtime.nseconds, true)
  dv.setUint32(off + 56, st.ctime.nseconds, true)
  dv.setUint32(off + 60, st.mode, true)
  dv.setUint32(off + 64, st.nlink, true)
  dv.setUint32(off + 68, st.uid, true)
  dv.setUint32(off + 72, st.gid, true)
  dv.setUint32(off + 76, st.rdev, true)
  dv.setUint32(off + 80, st.blksize, true)
  dv.setUint32(off + 84, 0, true) // flags: no FUSE_ATTR_SUBMOUNT / DAX
}

/** fuse_entry_out at OFF (128 bytes). */
export function writeEntryOut(dv: DataView, off: number, e: NodeEntry): void {
  putU64(dv, off, e.nodeid)
  putU64(dv, off + 8, e.generation)
  putTimeout(dv, off + 16, off + 32, e.entryTimeout)
  putTimeout(dv, off + 24, off + 36, e.attrTimeout)
  writeAttr(dv, off + 40, e.attr)
}

/** fuse_attr_out at OFF (104 bytes). */
export function writeAttrOut(dv: DataView, off: number, a: NodeAttr): void {
  putTimeout(dv, off, off + 8, a.attrTimeout)
  dv.setUint32(off + 12, 0, true)
  writeAttr(dv, off + 16, a.attr)
}

/** fuse_open_out at OFF (16 bytes). */
export function writeOpenOut(dv: DataView, off: number, o: NodeOpen): void {
  putU64(dv, off, o.fh)
  dv.setUint32(off + 8, o.openFlags, true)
  dv.setUint32(off + 12, 0, true)
}

/** fuse_kstatfs at OFF (80 bytes): counts in frsize units, as statvfs(3) reports them. */
export function writeStatfsOut(dv: DataView, off: number, s: FuseStatfs): void {
  putU64(dv, off, s.blocks)
  putU64(dv, off + 8, s.bfree)
  putU64(dv, off + 16, s.bavail)
  putU64(dv, off + 24, s.files)
  putU64(dv, off + 32, s.ffree)
  dv.setUint32(off + 40, s.bsize, true)
  dv.setUint32(off + 44, s.namemax, true)
  dv.setUint32(off + 48, s.frsize, true)
  for (let o = off + 52; o < off + STATFS_OUT_SIZE; o += 4) dv.setUint32(o, 0, true) // padding, spare[6]
}

/** fuse_init_in: what the kernel offers. */
export interface InitIn {
  major: number
  minor: number
  maxReadahead: number
  flags: number
  /** Bits 32-63 of the flags; 0 unless flags has FUSE_INIT_EXT. */
  flags2: number
}

/** fuse_init_out: what we answer. */
export interface InitOut {
  major: number
  minor: number
  maxReadahead: number
  flags: number
  maxBackground: number
  congestionThreshold: number
  maxWrite: number
  /** Timestamp granularity in ns (1: NFS times keep their nanoseconds). */
  timeGran: number
  maxPages: number
  flags2: number
}

/** fuse_init_in of LEN argument bytes at OFF; kernels before 7.36 send only the first 16. */
export function readInitIn(dv: DataView, off: number, len: number): InitIn {
  if (len < INIT_IN_COMPAT_SIZE) throw new KernelFuseError('ERR_FUSE_REQUEST', EINVAL, `INIT of ${len} argument bytes`)
  const flags = dv.getUint32(off + 12, true)
  const ext = (flags & FUSE_INIT_EXT) !== 0 && len >= INIT_IN_COMPAT_SIZE + 4
  return {
    major: dv.getUint32(off, true),
    minor: dv.getUint32(off + 4, true),
    maxReadahead: dv.getUint32(off + 8, true),
    flags,
    flags2: ext ? dv.getUint32(off + 16, true) : 0,
  }
}

/** fuse_init_out at OFF (64 bytes, the unused words zeroed). */
export function writeInitOut(dv: DataView, off: number, o: InitOut): void {
  dv.setUint32(off, o.major, true)
  dv.setUint32(off + 4, o.minor, true)
  dv.setUint32(off + 8, o.maxReadahead, true)
  dv.setUint32(off + 12, o.flags >>> 0, true)
  dv.setUint16(off + 16, o.maxBackground, true)
  dv.setUint16(off + 18, o.congestionThreshold, true)
  dv.setUint32(off + 20, o.maxWrite, true)
  dv.setUint32(off + 24, o.timeGran, true)
  dv.setUint16(off + 28, o.maxPages, true)
  dv.setUint16(off + 30, 0, true) // map_alignment (DAX only)
  dv.setUint32(off + 32, o.flags2 >>> 0, true)
  for (let p = off + 36; p < off + INIT_OUT_SIZE; p += 4) dv.setUint32(p, 0, true)
}

/**
 * The NUL-terminated name at OFF, ending before END; resolves `next` to the byte after its NUL.
 * EINVAL when there is no NUL before END, or the name is empty.
 */
export function readName(buf: Buffer, off: number, end: number): { name: string; next: number } {
  const z = off < end ? buf.indexOf(0, off) : -1
  if (z < 0 || z >= end) throw new KernelFuseError('ERR_FUSE_REQUEST', EINVAL, 'name not NUL-terminated within the request')
  if (z === off) throw new KernelFuseError('ERR_FUSE_REQUEST', EINVAL, 'empty name')
  return { name: buf.toString('utf8', off, z), next: z + 1 }
}

/** fuse_setattr_in at OFF: the handle if FATTR_FH, and the changes. FATTR_CTIME and FATTR_LOCKOWNER are ignored. */
export function readSetattrIn(dv: DataView, off: number, len: number): { fh: number | undefined; set: SetAttrs } {
  if (len < SETATTR_IN_SIZE) throw new KernelFuseError('ERR_FUSE_REQUEST', EINVAL, `SETATTR of ${len} argument bytes`)
  const valid = dv.getUint32(off, true)
  const set: SetAttrs = {}
  if (valid & FATTR_MODE) set.mode = dv.getUint32(off + 68, true)
  if (valid & FATTR_UID) set.uid = dv.getUint32(off + 76, true)
  if (valid & FATTR_GID) set.gid = dv.getUint32(off + 80, true)
  if (valid & FATTR_SIZE) set.size = getU64(dv, off + 16)
  // utimensat(UTIME_NOW) sets both FATTR_ATIME and FATTR_ATIME_NOW; NOW wins.
  if (valid & FATTR_ATIME_NOW) set.atime = 'now'
  else if (valid & FATTR_ATIME) set.atime = clampNfsTime3(getI64(dv, off + 32), dv.getUint32(off + 56, true))
  if (valid & FATTR_MTIME_NOW) set.mtime = 'now'
  else if (valid & FATTR_MTIME) set.mtime = clampNfsTime3(getI64(dv, off + 40), dv.getUint32(off + 60, true))
  if (valid & FATTR_KILL_SUIDGID) set.killSuidGid = true
  return { fh: valid & FATTR_FH ? getU64(dv, off + 8) : undefined, set }
}

/**
 * The DirSink of one READDIR / READDIRPLUS reply: fuse_dirent or fuse_direntplus records, each
 * padded to 8 bytes, from `start` up to `end` of BUF (the header goes before `start`).
 *
 *   start                                                               end
 *   | entry_out (128) | ino off namelen type | name ..pad | entry_out | ...  |
 *   '------------- one direntplus record (152 + namelen, aligned 8) ---'
 *
 * Lookup counting: the kernel takes a reference for each direntplus with a non-zero nodeid, but
 * never for "." and "..", and refuses the root's id (EIO for the whole reply). Those go out with
 * nodeid 0 and so do all entries of a plain READDIR; the filesystem counted them all the same
 * (add() returned true), so their ids are kept in `uncounted` for the session to forget again.
 */
export class DirentWriter implements DirSink {
  pos: number
  /** Node ids the kernel will hold a reference to once this reply is delivered. */
  readonly counted: number[] = []
  /** Node ids the filesystem counted but the kernel will not: to be forgotten after the reply. */
  readonly uncounted: number[] = []
  /** After the reply is built: add() refuses everything. */
  sealed = false

  constructor(
    readonly buf: Buffer,
    readonly dv: DataView,
    readonly start: number,
    readonly end: number,
    readonly plus: boolean,
    /** d_ino when the filesystem gives neither attributes nor an ino (never 0: glibc's readdir skips d_ino 0 as a deleted entry). */
    readonly fallbackIno: bigint,
  ) {
    this.pos = start
  }

  add(name: string, nextOffset: bigint, type: number, entry: NodeEntry | undefined, ino?: bigint): boolean {
    if (this.sealed) return false
    const nl = Buffer.byteLength(name)
    if (nl === 0 || nl > Math.min(NAME_MAX, FUSE_NAME_MAX)) {
      // The kernel would fail the whole directory over it: skip it, as taken so listing goes on.
      if (entry !== undefined) this.uncounted.push(entry.nodeid)
      return true
    }
    const rec = direntAlign((this.plus ? DIRENTPLUS_SIZE : DIRENT_SIZE) + nl)
    if (this.pos + rec > this.end) return false
    const { buf, dv } = this
    let d = this.pos
    if (this.plus) {
      const dots = name === '.' || name === '..'
      if (entry === undefined || dots || entry.nodeid === FUSE_ROOT_ID || entry.nodeid === 0) {
        buf.fill(0, d, d + ENTRY_OUT_SIZE)
        if (entry !== undefined && entry.nodeid !== 0) this.uncounted.push(entry.nodeid)
      } else {
        writeEntryOut(dv, d, entry)
        this.counted.push(entry.nodeid)
      }
      d += ENTRY_OUT_SIZE
    } else if (entry !== undefined && entry.nodeid !== 0) {
      this.uncounted.push(entry.nodeid)
    }
    const dIno = entry?.attr.ino ?? ino ?? 0n
    dv.setBigUint64(d, dIno === 0n ? this.fallbackIno : dIno, true)
    dv.setBigUint64(d + 8, nextOffset, true)
    dv.setUint32(d + 16, nl, true)
    dv.setUint32(d + 20, type, true)
    buf.write(name, d + 24, nl, 'utf8')
    buf.fill(0, d + 24 + nl, this.pos + rec)
    this.pos += rec
    return true
  }
}

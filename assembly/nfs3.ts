// NFSv3 arguments and results, RFC 1813 §2.5-§2.6 (types) and §3.3 (procedures).
//
// Every fattr3 the decoder hands out goes through readFattr, the one place where the inbound identity
// map is applied: a READDIRPLUS entry, a wcc after-attribute or a LOOKUP dir attribute cannot skip it.
// Failure arms are parsed too (not exposed) so a truncated error reply is reported as malformed rather
// than accepted by accident.

import {
  IN_PTR, RES_PTR, ENT_PTR, ENT_CAP, ENT_STRIDE, FHSIZE3, MAX_NAME,
  A_FH1_LEN, A_FH2_LEN, A_NAME1_LEN, A_NAME2_LEN, A_U0, A_U1, A_U2, A_OFFSET_F64, A_SIZE_F64,
  A_COOKIE_U64, A_SATTR_FLAGS, A_MODE, A_SUID, A_SGID, A_ATIME_HOW, A_ATIME_S, A_ATIME_NS, A_MTIME_HOW,
  A_MTIME_S, A_MTIME_NS, A_GUARD, A_GUARD_S, A_GUARD_NS, A_SPEC1, A_SPEC2,
  ARG_FH1, ARG_FH2, ARG_NAME1, ARG_NAME2, ARG_VERF, SATTR_MODE, SATTR_UID, SATTR_GID, SATTR_SIZE,
  R_STATUS, R_FLAGS, R_COUNT, R_ATTR_A, R_ATTR_B, R_FH_OFF, R_FH_LEN, R_DATA_OFF, R_DATA_LEN, R_U0, R_F0,
  FL_ATTR_A, FL_ATTR_B, FL_FH, FL_EOF, FL_BOOL0,
  FA_TYPE, FA_MODE, FA_NLINK, FA_UID, FA_GID, FA_RDEV1, FA_RDEV2, FA_ATIME_S, FA_ATIME_NS, FA_MTIME_S,
  FA_MTIME_NS, FA_CTIME_S, FA_CTIME_NS, FA_SIZE_F64, FA_USED_F64, FA_FSID_F64, FA_FILEID_U64,
  E_FLAGS, E_NAME_OFF, E_NAME_LEN, E_FH_OFF, E_FH_LEN, E_COOKIE_U64, E_FILEID_U64, E_ATTR,
  arg, argF64, argU64, res, resU64, resF64,
} from './layout'
import {
  OK, ERR_BAD_OP, ERR_FH_TOO_LONG, ERR_NAME_TOO_LONG, ERR_DATA_TOO_LONG, ERR_TOO_MANY_ENTRIES,
  ERR_ENC_FH, ERR_ENC_NAME, ERR_ENC_TYPE, ERR_ENC_TOO_LARGE, ERR_ENC_OP,
} from './status'
import { writeCallHeader, finishRecord } from './rpc'
import {
  need, advance, ldU32, ldU64, rdU32, rdU64, rdBool, rdOpaqueVar, rdOpaqueUpTo, rdOpaqueFixed, opaqueLen,
  readerError, fail, wrU32, wrU64, wrBool, wrOpaqueFixed, wrOpaqueVar,
} from './xdr'

const NFS_PROG: u32 = 100003
const NFS_V3: u32 = 3

// RFC 1813 §3 procedure numbers
const NFSPROC3_NULL: u32 = 0
const NFSPROC3_GETATTR: u32 = 1
const NFSPROC3_SETATTR: u32 = 2
const NFSPROC3_LOOKUP: u32 = 3
const NFSPROC3_ACCESS: u32 = 4
const NFSPROC3_READLINK: u32 = 5
const NFSPROC3_READ: u32 = 6
const NFSPROC3_WRITE: u32 = 7
const NFSPROC3_CREATE: u32 = 8
const NFSPROC3_MKDIR: u32 = 9
const NFSPROC3_SYMLINK: u32 = 10
const NFSPROC3_MKNOD: u32 = 11
const NFSPROC3_REMOVE: u32 = 12
const NFSPROC3_RMDIR: u32 = 13
const NFSPROC3_RENAME: u32 = 14
const NFSPROC3_LINK: u32 = 15
const NFSPROC3_READDIRPLUS: u32 = 17
const NFSPROC3_FSSTAT: u32 = 18
const NFSPROC3_FSINFO: u32 = 19
const NFSPROC3_PATHCONF: u32 = 20
const NFSPROC3_COMMIT: u32 = 21

const NFS3_OK: u32 = 0

// RFC 1813 §2.6 ftype3 (mknoddata3 arms) and §3.3.8 createmode3
const NF3REG: u32 = 1
const NF3DIR: u32 = 2
const NF3BLK: u32 = 3
const NF3CHR: u32 = 4
const NF3LNK: u32 = 5
const NF3SOCK: u32 = 6
const NF3FIFO: u32 = 7
const UNCHECKED: u32 = 0
const GUARDED: u32 = 1
const EXCLUSIVE: u32 = 2
// RFC 1813 §2.6 time_how
const SET_TO_CLIENT_TIME: u32 = 2

/** RFC 1813 §2.6: fattr3 is 84 bytes on the wire; wcc_attr 24. */
const FATTR3_WIRE: usize = 84
const WCC_ATTR_WIRE: usize = 24
const VERF_WIRE: u32 = 8

/** 2^53 - 1: the largest integer a JS number holds exactly. */
const MAX_SAFE: u64 = 0x1fffffffffffff
const MAX_SAFE_F64: f64 = 9007199254740991.0
/** Largest offset/size accepted from TS: 2^53, the first integer past which numbers stop being exact. */
const TWO_POW_53: f64 = 9007199254740992.0

// ------------------------------------------------------------------------------------------------
// Inbound identity map (set once per decode by decode() in index.ts)

let mapOn: bool = false
let mapSUid: u32 = 0
let mapSGid: u32 = 0
let mapLUid: u32 = 0
let mapLGid: u32 = 0

export function setMap(on: bool, su: u32, sg: u32, lu: u32, lg: u32): void {
  mapOn = on
  mapSUid = su
  mapSGid = sg
  mapLUid = lu
  mapLGid = lg
}

// ------------------------------------------------------------------------------------------------
// Result helpers

/** Sizes and counts: exact below 2^53, clamped to Number.MAX_SAFE_INTEGER above (never wraps). */
@inline function clampSafe(v: u64): f64 {
  return v > MAX_SAFE ? MAX_SAFE_F64 : <f64>v
}

@inline function slot(word: u32): usize {
  return RES_PTR + (word << 2)
}

/**
 * RFC 1813 §2.6 fattr3 into the slot at dst, with uid/gid rewritten by the inbound map. size and used
 * are clamped like clampSafe; fileid is stored as the raw u64 (TS reads an exact bigint: it becomes
 * st_ino, where two ids rounded to one double would look like hard links); fsid is rounded to the
 * nearest double (nothing here compares fsids).
 */
function readFattr(dst: usize): void {
  if (!need(FATTR3_WIRE)) return
  const p = advance(FATTR3_WIRE)
  let uid = ldU32(p + 12)
  let gid = ldU32(p + 16)
  if (mapOn) {
    if (uid == mapSUid) uid = mapLUid
    if (gid == mapSGid) gid = mapLGid
  }
  store<u32>(dst + (FA_TYPE << 2), ldU32(p))
  store<u32>(dst + (FA_MODE << 2), ldU32(p + 4))
  store<u32>(dst + (FA_NLINK << 2), ldU32(p + 8))
  store<u32>(dst + (FA_UID << 2), uid)
  store<u32>(dst + (FA_GID << 2), gid)
  store<f64>(dst + (FA_SIZE_F64 << 2), clampSafe(ldU64(p + 20)))
  store<f64>(dst + (FA_USED_F64 << 2), clampSafe(ldU64(p + 28)))
  store<u32>(dst + (FA_RDEV1 << 2), ldU32(p + 36))
  store<u32>(dst + (FA_RDEV2 << 2), ldU32(p + 40))
  store<f64>(dst + (FA_FSID_F64 << 2), <f64>ldU64(p + 44))
  store<u64>(dst + (FA_FILEID_U64 << 2), ldU64(p + 52))
  store<u32>(dst + (FA_ATIME_S << 2), ldU32(p + 60))
  store<u32>(dst + (FA_ATIME_NS << 2), ldU32(p + 64))
  store<u32>(dst + (FA_MTIME_S << 2), ldU32(p + 68))
  store<u32>(dst + (FA_MTIME_NS << 2), ldU32(p + 72))
  store<u32>(dst + (FA_CTIME_S << 2), ldU32(p + 76))
  store<u32>(dst + (FA_CTIME_NS << 2), ldU32(p + 80))
}

/** RFC 1813 §2.6 post_op_attr: bool, then fattr3 when TRUE. Returns whether attributes followed. */
function postOpAttr(dst: usize): bool {
  const follows = rdBool()
  if (follows) readFattr(dst)
  return follows && readerError() == 0
}

/** RFC 1813 §2.6 wcc_data: pre_op_attr (skipped: the client keeps no pre-op cache) then post_op_attr. */
function wccData(dst: usize): bool {
  if (rdBool() && need(WCC_ATTR_WIRE)) advance(WCC_ATTR_WIRE)
  return postOpAttr(dst)
}

/** ORs bit into R_FLAGS when set. */
function flag(bit: u32, set: bool): void {
  if (set) res(R_FLAGS, load<u32>(slot(R_FLAGS)) | bit)
}

/** nfs_fh3 (RFC 1813 §2.5, opaque<NFS3_FHSIZE>) located in the message: offset/length words. */
function readFh(offWord: usize, lenWord: usize): void {
  const at = rdOpaqueVar(FHSIZE3, ERR_FH_TOO_LONG)
  store<u32>(offWord, <u32>(at - IN_PTR))
  store<u32>(lenWord, opaqueLen())
}

// ------------------------------------------------------------------------------------------------
// Decoders, one per result union (RFC 1813 §3.3.x). Each runs after readReplyHeader() returned OK.

export function decodeNfs(proc: u32, hardEnd: usize): i32 {
  const status = rdU32()
  res(R_STATUS, status)
  if (readerError() != 0) return readerError()
  const ok = status == NFS3_OK
  const A = slot(R_ATTR_A)
  const B = slot(R_ATTR_B)
  switch (proc) {
    case NFSPROC3_GETATTR: // §3.3.1: fattr3 | void
      if (ok) {
        readFattr(A)
        flag(FL_ATTR_A, true)
      }
      break
    case NFSPROC3_SETATTR: // §3.3.2: wcc_data in both arms
    case NFSPROC3_REMOVE: // §3.3.12
    case NFSPROC3_RMDIR: // §3.3.13
      flag(FL_ATTR_A, wccData(A))
      break
    case NFSPROC3_LOOKUP: // §3.3.3: { fh, obj post_op_attr, dir post_op_attr } | dir post_op_attr
      if (ok) {
        readFh(slot(R_FH_OFF), slot(R_FH_LEN))
        flag(FL_FH, readerError() == 0)
        flag(FL_ATTR_A, postOpAttr(A))
      }
      flag(FL_ATTR_B, postOpAttr(B))
      break
    case NFSPROC3_ACCESS: // §3.3.4: post_op_attr, then access on NFS3_OK
      flag(FL_ATTR_A, postOpAttr(A))
      if (ok) res(R_U0, rdU32())
      break
    case NFSPROC3_READLINK: { // §3.3.5: post_op_attr, then nfspath3 on NFS3_OK
      flag(FL_ATTR_A, postOpAttr(A))
      if (ok) {
        const at = rdOpaqueVar(MAX_NAME, ERR_NAME_TOO_LONG)
        res(R_DATA_OFF, <u32>(at - IN_PTR))
        res(R_DATA_LEN, opaqueLen())
      }
      break
    }
    case NFSPROC3_READ: { // §3.3.6: post_op_attr, then count, eof, data<> on NFS3_OK
      flag(FL_ATTR_A, postOpAttr(A))
      if (ok) {
        res(R_U0, rdU32())
        flag(FL_EOF, rdBool())
        // The data length is trusted over count, but only as far as the message really holds it.
        const at = rdOpaqueUpTo(hardEnd, ERR_DATA_TOO_LONG)
        res(R_DATA_OFF, <u32>(at - IN_PTR))
        res(R_DATA_LEN, opaqueLen())
      }
      break
    }
    case NFSPROC3_WRITE: { // §3.3.7: wcc_data, then count, committed, writeverf3 on NFS3_OK
      flag(FL_ATTR_A, wccData(A))
      if (ok) {
        res(R_U0, rdU32())
        res(R_U0 + 1, rdU32())
        resU64(R_F0, rdU64())
      }
      break
    }
    case NFSPROC3_CREATE: // §3.3.8-§3.3.11: { post_op_fh3, post_op_attr, wcc_data } | wcc_data
    case NFSPROC3_MKDIR:
    case NFSPROC3_SYMLINK:
    case NFSPROC3_MKNOD:
      if (ok) {
        if (rdBool()) {
          readFh(slot(R_FH_OFF), slot(R_FH_LEN))
          flag(FL_FH, readerError() == 0)
        }
        flag(FL_ATTR_A, postOpAttr(A))
      }
      flag(FL_ATTR_B, wccData(B))
      break
    case NFSPROC3_RENAME: // §3.3.14: fromdir_wcc, todir_wcc in both arms (validated, not exposed)
      wccData(A)
      wccData(B)
      break
    case NFSPROC3_LINK: // §3.3.15: file post_op_attr, linkdir wcc_data in both arms
      flag(FL_ATTR_A, postOpAttr(A))
      wccData(B)
      break
    case NFSPROC3_READDIRPLUS: // §3.3.17
      flag(FL_ATTR_A, postOpAttr(A))
      if (ok) readDirListPlus()
      break
    case NFSPROC3_FSSTAT: { // §3.3.18: post_op_attr, then six size3, invarsec on NFS3_OK
      flag(FL_ATTR_A, postOpAttr(A))
      if (ok && need(52)) {
        const p = advance(52)
        for (let i: u32 = 0; i < 6; i++) resF64(R_F0 + 2 * i, clampSafe(ldU64(p + 8 * i)))
        res(R_U0, ldU32(p + 48))
      }
      break
    }
    case NFSPROC3_FSINFO: { // §3.3.19: post_op_attr, then the fsinfo3 block on NFS3_OK
      flag(FL_ATTR_A, postOpAttr(A))
      if (ok && need(48)) {
        const p = advance(48)
        // rtmax rtpref rtmult wtmax wtpref wtmult dtpref -> R_U0..R_U0+6
        for (let i: u32 = 0; i < 7; i++) res(R_U0 + i, ldU32(p + 4 * i))
        resF64(R_F0, clampSafe(ldU64(p + 28)))
        res(R_U0 + 7, ldU32(p + 36)) // time_delta.seconds
        res(R_U0 + 8, ldU32(p + 40)) // time_delta.nseconds
        res(R_U0 + 9, ldU32(p + 44)) // properties
      }
      break
    }
    case NFSPROC3_PATHCONF: { // §3.3.20: post_op_attr, then linkmax, name_max, four bools on NFS3_OK
      flag(FL_ATTR_A, postOpAttr(A))
      if (ok) {
        res(R_U0, rdU32())
        res(R_U0 + 1, rdU32())
        for (let i: u32 = 0; i < 4; i++) flag(FL_BOOL0 << i, rdBool())
      }
      break
    }
    case NFSPROC3_COMMIT: // §3.3.21: wcc_data, then writeverf3 on NFS3_OK
      flag(FL_ATTR_A, wccData(A))
      if (ok) resU64(R_F0, rdU64())
      break
    default:
      return ERR_BAD_OP
  }
  return readerError()
}

/**
 * RFC 1813 §3.3.17 READDIRPLUS3resok: cookieverf3, then a list of entryplus3 built from optional
 * pointers (value_follows), then eof. The list is walked iteratively; each entry consumes at least
 * 32 bytes, so the message length bounds the loop and ENT_CAP can never be exceeded by a message that fits IN.
 */
function readDirListPlus(): void {
  const verf = rdOpaqueFixed(VERF_WIRE)
  res(R_DATA_OFF, <u32>(verf - IN_PTR))
  res(R_DATA_LEN, VERF_WIRE)
  let n: u32 = 0
  while (readerError() == 0 && rdBool()) {
    if (n >= ENT_CAP) {
      fail(ERR_TOO_MANY_ENTRIES)
      return
    }
    const e: usize = <usize>ENT_PTR + <usize>n * <usize>ENT_STRIDE
    let flags: u32 = 0
    store<u64>(e + (E_FILEID_U64 << 2), rdU64())
    const name = rdOpaqueVar(MAX_NAME, ERR_NAME_TOO_LONG)
    store<u32>(e + (E_NAME_OFF << 2), <u32>(name - IN_PTR))
    store<u32>(e + (E_NAME_LEN << 2), opaqueLen())
    store<u64>(e + (E_COOKIE_U64 << 2), rdU64())
    if (postOpAttr(e + (E_ATTR << 2))) flags |= FL_ATTR_A
    if (rdBool()) {
      readFh(e + (E_FH_OFF << 2), e + (E_FH_LEN << 2))
      if (readerError() == 0) flags |= FL_FH
    }
    store<u32>(e + (E_FLAGS << 2), flags)
    n++
  }
  res(R_COUNT, n)
  flag(FL_EOF, rdBool())
}

// ------------------------------------------------------------------------------------------------
// Encoders (RFC 1813 §3.3.x *3args). Lengths in ARG are checked here as well as in TS: the core must
// not trust its caller to keep the writer inside OUT.

function fh1Ok(): bool {
  return arg(A_FH1_LEN) <= FHSIZE3
}

function wrFh(src: usize, n: u32): void {
  wrOpaqueVar(src, n)
}

/** RFC 1813 §3.3.3 diropargs3: nfs_fh3 dir, filename3 name. */
function wrDirOp(fh: usize, fhLen: u32, name: usize, nameLen: u32): void {
  wrFh(fh, fhLen)
  wrOpaqueVar(name, nameLen)
}

/** RFC 1813 §2.6 set_atime/set_mtime: time_how, nfstime3 for SET_TO_CLIENT_TIME. */
function wrSetTime(how: u32, s: u32, ns: u32): bool {
  if (how > SET_TO_CLIENT_TIME) return false
  wrU32(how)
  if (how == SET_TO_CLIENT_TIME) {
    wrU32(s)
    wrU32(ns)
  }
  return true
}

/** RFC 1813 §2.6 sattr3 from the A_SATTR_* words. Returns OK or ERR_ENC_TYPE/ERR_ENC_TOO_LARGE. */
function wrSattr(): i32 {
  const f = arg(A_SATTR_FLAGS)
  wrBool((f & SATTR_MODE) != 0)
  if ((f & SATTR_MODE) != 0) wrU32(arg(A_MODE))
  wrBool((f & SATTR_UID) != 0)
  if ((f & SATTR_UID) != 0) wrU32(arg(A_SUID))
  wrBool((f & SATTR_GID) != 0)
  if ((f & SATTR_GID) != 0) wrU32(arg(A_SGID))
  wrBool((f & SATTR_SIZE) != 0)
  if ((f & SATTR_SIZE) != 0) {
    const size = argF64(A_SIZE_F64)
    if (!(size >= 0.0 && size <= TWO_POW_53)) return ERR_ENC_TOO_LARGE
    wrU64(<u64>size)
  }
  if (!wrSetTime(arg(A_ATIME_HOW), arg(A_ATIME_S), arg(A_ATIME_NS))) return ERR_ENC_TYPE
  if (!wrSetTime(arg(A_MTIME_HOW), arg(A_MTIME_S), arg(A_MTIME_NS))) return ERR_ENC_TYPE
  return OK
}

/** offset3 from the A_OFFSET_F64 slot: a validated integer in [0, 2^53]. */
function wrOffset(): bool {
  const off = argF64(A_OFFSET_F64)
  if (!(off >= 0.0 && off <= TWO_POW_53)) return false
  wrU64(<u64>off)
  return true
}

export function encodeNfs(proc: u32): i32 {
  const fh1 = arg(A_FH1_LEN)
  const name1 = arg(A_NAME1_LEN)
  if (proc != NFSPROC3_NULL && !fh1Ok()) return ERR_ENC_FH
  if (arg(A_FH2_LEN) > FHSIZE3) return ERR_ENC_FH
  if (name1 > MAX_NAME || arg(A_NAME2_LEN) > MAX_NAME) return ERR_ENC_NAME
  let st = writeCallHeader(NFS_PROG, NFS_V3, proc, true)
  if (st != OK) return st
  let trailing: u64 = 0
  switch (proc) {
    case NFSPROC3_NULL:
      break
    case NFSPROC3_GETATTR: // §3.3.1 { object }
    case NFSPROC3_READLINK: // §3.3.5 { symlink }
    case NFSPROC3_FSSTAT: // §3.3.18 { fsroot }
    case NFSPROC3_FSINFO: // §3.3.19 { fsroot }
    case NFSPROC3_PATHCONF: // §3.3.20 { object }
      wrFh(ARG_FH1, fh1)
      break
    case NFSPROC3_SETATTR: // §3.3.2 { object, new_attributes, sattrguard3 guard }
      wrFh(ARG_FH1, fh1)
      st = wrSattr()
      if (st != OK) return st
      wrBool(arg(A_GUARD) != 0)
      if (arg(A_GUARD) != 0) {
        wrU32(arg(A_GUARD_S))
        wrU32(arg(A_GUARD_NS))
      }
      break
    case NFSPROC3_LOOKUP: // §3.3.3 { what }
    case NFSPROC3_REMOVE: // §3.3.12 { object }
    case NFSPROC3_RMDIR: // §3.3.13 { object }
      wrDirOp(ARG_FH1, fh1, ARG_NAME1, name1)
      break
    case NFSPROC3_ACCESS: // §3.3.4 { object, access }
      wrFh(ARG_FH1, fh1)
      wrU32(arg(A_U0))
      break
    case NFSPROC3_READ: // §3.3.6 { file, offset, count }
    case NFSPROC3_COMMIT: // §3.3.21 { file, offset, count }
      wrFh(ARG_FH1, fh1)
      if (!wrOffset()) return ERR_ENC_TOO_LARGE
      wrU32(arg(A_U0))
      break
    case NFSPROC3_WRITE: { // §3.3.7 { file, offset, count, stable, data<> }: data sent by the caller
      wrFh(ARG_FH1, fh1)
      if (!wrOffset()) return ERR_ENC_TOO_LARGE
      wrU32(arg(A_U0))
      wrU32(arg(A_U1))
      const n = arg(A_U2)
      wrU32(n)
      trailing = (<u64>n + 3) & ~(<u64>3)
      break
    }
    case NFSPROC3_CREATE: { // §3.3.8 { where, createhow3 how }
      wrDirOp(ARG_FH1, fh1, ARG_NAME1, name1)
      const how = arg(A_U0)
      wrU32(how)
      if (how == UNCHECKED || how == GUARDED) {
        st = wrSattr()
        if (st != OK) return st
      } else if (how == EXCLUSIVE) {
        wrOpaqueFixed(ARG_VERF, VERF_WIRE)
      } else {
        return ERR_ENC_TYPE
      }
      break
    }
    case NFSPROC3_MKDIR: // §3.3.9 { where, attributes }
      wrDirOp(ARG_FH1, fh1, ARG_NAME1, name1)
      st = wrSattr()
      if (st != OK) return st
      break
    case NFSPROC3_SYMLINK: // §3.3.10 { where, symlinkdata3 { symlink_attributes, symlink_data } }
      wrDirOp(ARG_FH1, fh1, ARG_NAME1, name1)
      st = wrSattr()
      if (st != OK) return st
      wrOpaqueVar(ARG_NAME2, arg(A_NAME2_LEN))
      break
    case NFSPROC3_MKNOD: { // §3.3.11 { where, mknoddata3 what }
      wrDirOp(ARG_FH1, fh1, ARG_NAME1, name1)
      const type = arg(A_U0)
      wrU32(type)
      if (type == NF3CHR || type == NF3BLK) {
        st = wrSattr()
        if (st != OK) return st
        wrU32(arg(A_SPEC1))
        wrU32(arg(A_SPEC2))
      } else if (type == NF3SOCK || type == NF3FIFO) {
        st = wrSattr()
        if (st != OK) return st
      } else if (type != NF3REG && type != NF3DIR && type != NF3LNK) {
        return ERR_ENC_TYPE
      }
      break
    }
    case NFSPROC3_RENAME: // §3.3.14 { from, to }
      wrDirOp(ARG_FH1, fh1, ARG_NAME1, name1)
      wrDirOp(ARG_FH2, arg(A_FH2_LEN), ARG_NAME2, arg(A_NAME2_LEN))
      break
    case NFSPROC3_LINK: // §3.3.15 { file, link }
      wrFh(ARG_FH1, fh1)
      wrDirOp(ARG_FH2, arg(A_FH2_LEN), ARG_NAME1, name1)
      break
    case NFSPROC3_READDIRPLUS: // §3.3.17 { dir, cookie, cookieverf, dircount, maxcount }
      wrFh(ARG_FH1, fh1)
      wrU64(argU64(A_COOKIE_U64))
      wrOpaqueFixed(ARG_VERF, VERF_WIRE)
      wrU32(arg(A_U0))
      wrU32(arg(A_U1))
      break
    default:
      return ERR_ENC_OP
  }
  return finishRecord(trailing)
}

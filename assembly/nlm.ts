// NLM v4 (program 100021 version 4): the Open Group's XNFS "Network Lock Manager Protocol", as
// carried forward for 64-bit offsets by RFC 1813 Appendix II (nlm4_lock, nlm4_holder, nlm4_stats).
//
// Client calls (TEST, LOCK, CANCEL, UNLOCK, GRANTED_RES, FREE_ALL) are encoded from ARG:
//   ARG_NAME1 caller_name, ARG_FH1 fh, ARG_NAME2 oh, ARG_FH2 cookie (<= COOKIE_MAX bytes),
//   A_U0 flags (NLM_EXCLUSIVE | NLM_BLOCK | NLM_RECLAIM), A_U1 svid, A_U2 state (NSM state),
//   A_U3 stat (GRANTED_RES), A_OFFSET_F64 / A_SIZE_F64 read as raw u64 l_offset / l_len.
// The GRANTED callback arrives as a call: decodeCall() checks its header and arguments, and
// encodeReply() answers it. Only NULL and GRANTED are accepted as calls; everything else gets the
// RPC-level error the caller picks.

import {
  ARG_NAME1, ARG_NAME2, ARG_FH1, ARG_FH2, A_NAME1_LEN, A_NAME2_LEN, A_FH1_LEN, A_FH2_LEN, A_U0, A_U1, A_U2,
  A_U3, A_OFFSET_F64, A_SIZE_F64, IN_PTR, R_STATUS, R_FLAGS, R_DATA_OFF,
  R_DATA_LEN, R_FH_OFF, R_FH_LEN, R_U0, R_F0, R_KIND, FL_BOOL0, arg, argU64, res, resGet, resU64,
} from './layout'
import { OK, ERR_ENC_NAME, ERR_ENC_FH, ERR_ENC_OP, ERR_NAME_TOO_LONG, ERR_FH_TOO_LONG, ERR_BAD_OP } from './status'
import { writeCallHeader, writeReplyHeader, readCallHeader, finishRecord } from './rpc'
import { rdU32, rdU64, rdBool, rdOpaqueVar, opaqueLen, readerError, wrU32, wrU64, wrBool, wrOpaqueVar } from './xdr'

export const NLM_PROG: u32 = 100021
export const NLM_V4: u32 = 4
// procedures (XNFS NLM, nlm4 numbering)
export const NLMPROC4_TEST: u32 = 1
export const NLMPROC4_LOCK: u32 = 2
export const NLMPROC4_CANCEL: u32 = 3
export const NLMPROC4_UNLOCK: u32 = 4
export const NLMPROC4_GRANTED: u32 = 5
export const NLMPROC4_GRANTED_MSG: u32 = 10
export const NLMPROC4_GRANTED_RES: u32 = 15
export const NLMPROC4_FREE_ALL: u32 = 23

/** LM_MAXSTRLEN (caller_name) and MAXNETOBJ_SZ (fh, oh, cookie) of the XNFS NLM protocol. */
export const LM_MAXSTRLEN: u32 = 1024
export const MAXNETOBJ_SZ: u32 = 1024
/** This client's cookies and the server's GRANTED cookies it echoes: ARG_FH2 has room for 256 bytes. */
export const COOKIE_MAX: u32 = 256
/** ganesha and Linux lockd handles are at most 64 bytes (NFS3_FHSIZE); the NLM netobj bound is larger. */
const FH_MAX: u32 = 64

export const NLM_EXCLUSIVE: u32 = 1
export const NLM_BLOCK: u32 = 2
export const NLM_RECLAIM: u32 = 4

const NLM4_DENIED: u32 = 1

/** netobj cookie from ARG_FH2. */
function wrCookie(): void {
  wrOpaqueVar(ARG_FH2, arg(A_FH2_LEN))
}

/** nlm4_lock { caller_name, fh, oh, svid, l_offset, l_len }. */
function wrLock(): void {
  wrOpaqueVar(ARG_NAME1, arg(A_NAME1_LEN))
  wrOpaqueVar(ARG_FH1, arg(A_FH1_LEN))
  wrOpaqueVar(ARG_NAME2, arg(A_NAME2_LEN))
  wrU32(arg(A_U1))
  wrU64(argU64(A_OFFSET_F64))
  wrU64(argU64(A_SIZE_F64))
}

function argsOk(withLock: bool): i32 {
  if (arg(A_FH2_LEN) > COOKIE_MAX) return ERR_ENC_FH
  if (!withLock) return OK
  if (arg(A_NAME1_LEN) > LM_MAXSTRLEN || arg(A_NAME2_LEN) > MAXNETOBJ_SZ) return ERR_ENC_NAME
  if (arg(A_FH1_LEN) > FH_MAX) return ERR_ENC_FH
  return OK
}

/** Encodes NLM4 procedure `proc` with an AUTH_SYS credential (the mount's mapped identity). */
export function encodeNlm(proc: u32): i32 {
  const withLock = proc != NLMPROC4_GRANTED_RES && proc != NLMPROC4_FREE_ALL
  let st = argsOk(withLock)
  if (st != OK) return st
  if (proc == NLMPROC4_FREE_ALL && arg(A_NAME1_LEN) > LM_MAXSTRLEN) return ERR_ENC_NAME
  st = writeCallHeader(NLM_PROG, NLM_V4, proc, true)
  if (st != OK) return st
  const f = arg(A_U0)
  if (proc == NLMPROC4_TEST) {
    // nlm4_testargs { cookie, exclusive, alock }
    wrCookie()
    wrBool((f & NLM_EXCLUSIVE) != 0)
    wrLock()
  } else if (proc == NLMPROC4_LOCK) {
    // nlm4_lockargs { cookie, block, exclusive, alock, reclaim, state }
    wrCookie()
    wrBool((f & NLM_BLOCK) != 0)
    wrBool((f & NLM_EXCLUSIVE) != 0)
    wrLock()
    wrBool((f & NLM_RECLAIM) != 0)
    wrU32(arg(A_U2))
  } else if (proc == NLMPROC4_CANCEL) {
    // nlm4_cancargs { cookie, block, exclusive, alock }
    wrCookie()
    wrBool((f & NLM_BLOCK) != 0)
    wrBool((f & NLM_EXCLUSIVE) != 0)
    wrLock()
  } else if (proc == NLMPROC4_UNLOCK) {
    // nlm4_unlockargs { cookie, alock }
    wrCookie()
    wrLock()
  } else if (proc == NLMPROC4_GRANTED_RES) {
    // nlm4_res { cookie, stat }
    wrCookie()
    wrU32(arg(A_U3))
  } else if (proc == NLMPROC4_FREE_ALL) {
    // nlm4_notify { name, state }
    wrOpaqueVar(ARG_NAME1, arg(A_NAME1_LEN))
    wrU32(arg(A_U2))
  } else {
    return ERR_ENC_OP
  }
  return finishRecord(0)
}

/** Skips the cookie (any netobj up to MAXNETOBJ_SZ), leaving its place in R_FH_OFF/R_FH_LEN. */
function rdCookie(): void {
  const at = rdOpaqueVar(MAXNETOBJ_SZ, ERR_FH_TOO_LONG)
  if (readerError() != 0) return
  res(R_FH_OFF, <u32>(at - IN_PTR))
  res(R_FH_LEN, opaqueLen())
}

/**
 * nlm4_res { cookie, stat } (LOCK, CANCEL, UNLOCK), or with `test` nlm4_testres { cookie,
 * nlm4_testrply }: on DENIED the holder { exclusive, svid, oh, l_offset, l_len } into FL_BOOL0,
 * R_U0, R_DATA_OFF/LEN, R_F0 and R_F0 + 2.
 */
export function decodeNlm(test: bool): i32 {
  rdCookie()
  const stat = rdU32()
  res(R_STATUS, stat)
  if (readerError() != 0 || !test || stat != NLM4_DENIED) return readerError()
  if (rdBool()) res(R_FLAGS, FL_BOOL0)
  res(R_U0, rdU32())
  const oh = rdOpaqueVar(MAXNETOBJ_SZ, ERR_NAME_TOO_LONG)
  if (readerError() != 0) return readerError()
  res(R_DATA_OFF, <u32>(oh - IN_PTR))
  res(R_DATA_LEN, opaqueLen())
  resU64(R_F0, rdU64())
  resU64(R_F0 + 2, rdU64())
  return readerError()
}

// ---- the GRANTED callback: a call in, a reply out (RFC 5531 §9) ------------------------------

const RPC_VERS: u32 = 2

/**
 * Decodes the call message in IN: R_U0 xid, R_U0+1 rpcvers, R_U0+2 prog, R_U0+3 vers, R_U0+4 proc,
 * R_U0+5 credential flavor. When it is NLM4 GRANTED or GRANTED_MSG, the nlm4_testargs follow:
 * cookie at R_FH_OFF/LEN, exclusive in FL_BOOL0, caller_name at R_U0+6/7, fh at R_U0+8/9, oh at
 * R_DATA_OFF/LEN, svid R_U0+10, l_offset R_F0, l_len R_F0+2; R_KIND is 1 when they were decoded.
 */
export function decodeCall(): i32 {
  const header = readCallHeader()
  if (header != OK) return header
  const rpcvers = resGet(R_U0 + 1)
  const prog = resGet(R_U0 + 2)
  const vers = resGet(R_U0 + 3)
  const proc = resGet(R_U0 + 4)
  if (rpcvers != RPC_VERS || prog != NLM_PROG || vers != NLM_V4) return OK
  if (proc != NLMPROC4_GRANTED && proc != NLMPROC4_GRANTED_MSG) return OK
  rdCookie()
  if (rdBool()) res(R_FLAGS, FL_BOOL0)
  const name = rdOpaqueVar(LM_MAXSTRLEN, ERR_NAME_TOO_LONG)
  if (readerError() != 0) return readerError()
  res(R_U0 + 6, <u32>(name - IN_PTR))
  res(R_U0 + 7, opaqueLen())
  const fh = rdOpaqueVar(MAXNETOBJ_SZ, ERR_FH_TOO_LONG)
  if (readerError() != 0) return readerError()
  res(R_U0 + 8, <u32>(fh - IN_PTR))
  res(R_U0 + 9, opaqueLen())
  const oh = rdOpaqueVar(MAXNETOBJ_SZ, ERR_NAME_TOO_LONG)
  if (readerError() != 0) return readerError()
  res(R_DATA_OFF, <u32>(oh - IN_PTR))
  res(R_DATA_LEN, opaqueLen())
  res(R_U0 + 10, rdU32())
  resU64(R_F0, rdU64())
  resU64(R_F0 + 2, rdU64())
  if (readerError() != 0) return readerError()
  res(R_KIND, 1)
  return OK
}

// accept_stat (RFC 5531 §9)
const SUCCESS: u32 = 0
const PROG_MISMATCH: u32 = 2

/**
 * A reply to A_XID with accept_stat A_U0 (SUCCESS, PROG_UNAVAIL, PROG_MISMATCH with A_U1..A_U2 as
 * low..high, PROC_UNAVAIL, GARBAGE_ARGS, SYSTEM_ERR); with SUCCESS and A_U3 != 0xffffffff an nlm4_res
 * { cookie from ARG_FH2, stat A_U3 } follows (void results otherwise).
 */
export function encodeReply(): i32 {
  if (arg(A_FH2_LEN) > COOKIE_MAX) return ERR_ENC_FH
  const astat = arg(A_U0)
  if (astat > 5) return ERR_BAD_OP
  writeReplyHeader(astat)
  if (astat == PROG_MISMATCH) {
    wrU32(arg(A_U1))
    wrU32(arg(A_U2))
  } else if (astat == SUCCESS && arg(A_U3) != 0xffffffff) {
    wrCookie()
    wrU32(arg(A_U3))
  }
  return finishRecord(0)
}

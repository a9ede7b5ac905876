// ONC RPC v2 message framing, RFC 5531 §9 (call/reply bodies), §8.2 and appendix A (credentials),
// §11 (record marking).

import {
  OUT_PTR, ARG_MACH, A_XID, A_FLAVOR, A_STAMP, A_UID, A_GID, A_NGIDS, A_MACH_LEN, A_GIDS,
  MAX_AUTH_BYTES, MAX_MACHINENAME, MAX_GIDS, R_KIND, R_LOW, R_HIGH, R_U0, arg, res,
} from './layout'
import {
  OK, ERR_MSG_TYPE, ERR_REPLY_STAT, ERR_ACCEPT_STAT, ERR_REJECT_STAT, ERR_VERF_TOO_LONG,
  ERR_ENC_GIDS, ERR_ENC_MACHINE, ERR_ENC_TOO_LARGE,
  KIND_SUCCESS, KIND_PROG_MISMATCH, KIND_RPC_MISMATCH, KIND_AUTH_ERROR,
} from './status'
import { writerInit, writerPos, wrU32, wrOpaqueVar, rdU32, rdOpaqueVar, readerError } from './xdr'

// RFC 5531 §9 msg_type, reply_stat, accept_stat, reject_stat
const CALL: u32 = 0
const REPLY: u32 = 1
const RPC_VERS: u32 = 2
const MSG_ACCEPTED: u32 = 0
const MSG_DENIED: u32 = 1
const SUCCESS: u32 = 0
const PROG_MISMATCH: u32 = 2
const SYSTEM_ERR: u32 = 5
const RPC_MISMATCH: u32 = 0
const AUTH_ERROR: u32 = 1
// RFC 5531 §8.2 auth_flavor
const AUTH_NONE: u32 = 0
const AUTH_SYS: u32 = 1

/** Record mark bit 31: last fragment (RFC 5531 §11). Each call goes out as one fragment. */
const LAST_FRAGMENT: u32 = 0x80000000
const MAX_FRAGMENT: u64 = 0x7fffffff

/**
 * Starts a call record in OUT: room for the record mark, then the call header of RFC 5531 §9
 * (xid, CALL, rpcvers 2, prog, vers, proc), the credential and an AUTH_NONE verifier. The credential
 * is AUTH_SYS (appendix A) when withCred and A_FLAVOR says so, else AUTH_NONE. Returns OK or a
 * negative encode status.
 */
export function writeCallHeader(prog: u32, vers: u32, proc: u32, withCred: bool): i32 {
  writerInit(OUT_PTR + 4)
  wrU32(arg(A_XID))
  wrU32(CALL)
  wrU32(RPC_VERS)
  wrU32(prog)
  wrU32(vers)
  wrU32(proc)
  if (withCred && arg(A_FLAVOR) == AUTH_SYS) {
    const mlen = arg(A_MACH_LEN)
    const ngids = arg(A_NGIDS)
    if (mlen > MAX_MACHINENAME) return ERR_ENC_MACHINE
    if (ngids > MAX_GIDS) return ERR_ENC_GIDS
    // stamp, machinename<255>, uid, gid, gids<16>: at most 4+4+256+4+4+4+64 = 340 bytes
    const body: u32 = 4 + 4 + ((mlen + 3) & ~3) + 4 + 4 + 4 + 4 * ngids
    if (body > MAX_AUTH_BYTES) return ERR_ENC_MACHINE
    wrU32(AUTH_SYS)
    wrU32(body)
    wrU32(arg(A_STAMP))
    wrOpaqueVar(ARG_MACH, mlen)
    wrU32(arg(A_UID))
    wrU32(arg(A_GID))
    wrU32(ngids)
    for (let i: u32 = 0; i < ngids; i++) wrU32(arg(A_GIDS + i))
  } else {
    wrU32(AUTH_NONE)
    wrU32(0)
  }
  wrU32(AUTH_NONE)
  wrU32(0)
  return OK
}

/**
 * Starts an accepted reply to A_XID (RFC 5531 §9): (xid, REPLY, MSG_ACCEPTED, an AUTH_NONE
 * verifier, accept_stat ASTAT). The caller writes what follows the status, then finishRecord().
 */
export function writeReplyHeader(astat: u32): void {
  writerInit(OUT_PTR + 4)
  wrU32(arg(A_XID))
  wrU32(REPLY)
  wrU32(MSG_ACCEPTED)
  wrU32(AUTH_NONE)
  wrU32(0)
  wrU32(astat)
}

/**
 * Reads the header of the call message in IN (RFC 5531 §9) into RES: R_U0 xid, R_U0+1 rpcvers,
 * R_U0+2 prog, R_U0+3 vers, R_U0+4 proc, R_U0+5 credential flavor (its body and the verifier are
 * skipped, bounded). Returns OK with the reader at the call's arguments, or a negative status.
 */
export function readCallHeader(): i32 {
  res(R_U0, rdU32())
  const mtype = rdU32()
  if (readerError() != 0) return readerError()
  if (mtype != CALL) return ERR_MSG_TYPE
  res(R_U0 + 1, rdU32())
  res(R_U0 + 2, rdU32())
  res(R_U0 + 3, rdU32())
  res(R_U0 + 4, rdU32())
  res(R_U0 + 5, rdU32())
  rdOpaqueVar(MAX_AUTH_BYTES, ERR_VERF_TOO_LONG)
  rdU32()
  rdOpaqueVar(MAX_AUTH_BYTES, ERR_VERF_TOO_LONG)
  return readerError()
}

/**
 * Back-patches the record mark (RFC 5531 §11) over everything written plus `trailing` bytes the caller
 * sends itself (WRITE data and its pad). Returns the number of bytes in OUT, record mark included.
 */
export function finishRecord(trailing: u64): i32 {
  const body = <u64>(writerPos() - (OUT_PTR + 4)) + trailing
  if (body > MAX_FRAGMENT) return ERR_ENC_TOO_LARGE
  store<u32>(OUT_PTR, bswap<u32>(LAST_FRAGMENT | <u32>body))
  return <i32>(writerPos() - OUT_PTR)
}

/**
 * Reads a reply header, RFC 5531 §9: xid (the transport matched it already), REPLY, reply_stat, then
 * for MSG_ACCEPTED the verifier (length read and body skipped: servers may send one) and accept_stat,
 * for MSG_DENIED the reject_stat arm. Fills R_KIND/R_LOW/R_HIGH. Returns OK when results follow
 * (SUCCESS), 1 when the reply is complete without results, or a negative status.
 */
export function readReplyHeader(): i32 {
  rdU32() // xid
  const mtype = rdU32()
  const rstat = rdU32()
  if (readerError() != 0) return readerError()
  if (mtype != REPLY) return ERR_MSG_TYPE
  if (rstat == MSG_ACCEPTED) {
    rdU32() // verifier flavor: any, the body is skipped
    rdOpaqueVar(MAX_AUTH_BYTES, ERR_VERF_TOO_LONG)
    const astat = rdU32()
    if (readerError() != 0) return readerError()
    if (astat > SYSTEM_ERR) return ERR_ACCEPT_STAT
    res(R_KIND, KIND_SUCCESS + astat) // KIND_* mirror accept_stat 0..5
    if (astat == SUCCESS) return OK
    if (astat == PROG_MISMATCH) {
      res(R_KIND, KIND_PROG_MISMATCH)
      res(R_LOW, rdU32())
      res(R_HIGH, rdU32())
      if (readerError() != 0) return readerError()
    }
    return 1
  }
  if (rstat == MSG_DENIED) {
    const rj = rdU32()
    if (readerError() != 0) return readerError()
    if (rj == RPC_MISMATCH) {
      res(R_KIND, KIND_RPC_MISMATCH)
      res(R_LOW, rdU32())
      res(R_HIGH, rdU32())
    } else if (rj == AUTH_ERROR) {
      res(R_KIND, KIND_AUTH_ERROR)
      res(R_LOW, rdU32())
    } else {
      return ERR_REJECT_STAT
    }
    if (readerError() != 0) return readerError()
    return 1
  }
  return ERR_REPLY_STAT
}


// The two entry points behind index.ts: one JS->WASM call per encoded call, one per decoded reply.

import { IN_PTR, IN_SIZE, RES_PTR, OP_NULL, OP_GETPORT, OP_MNT, OP_UMNT, OP_NFS, OP_PMAP_SET, OP_PMAP_UNSET, OP_CALL, OP_NLM, OP_NSM, A_PROG, A_VERS, arg } from './layout'
import { OK, ERR_BAD_OP, ERR_INPUT_TOO_LARGE, ERR_ENC_OP } from './status'
import { readerInit, readerError } from './xdr'
import { writeCallHeader, finishRecord, readReplyHeader } from './rpc'
import { encodeGetport, decodeGetport, encodeSet, decodeBoolResult } from './portmap'
import { encodeNlm, decodeNlm, decodeCall, encodeReply, NLMPROC4_TEST, NLMPROC4_FREE_ALL, NLMPROC4_GRANTED_RES } from './nlm'
import { encodeNsm, decodeNsm } from './nsm'
import { encodeDirpath, decodeMnt } from './mount'
import { encodeNfs, decodeNfs, setMap } from './nfs3'

const MOUNTPROC3_MNT: u32 = 1
const MOUNTPROC3_UMNT: u32 = 3
const NFSPROC3_COMMIT: u32 = 21
/** SM_NOTIFY, the last NSM procedure this client sends. */
const SM_LAST: u32 = 6
/** Words of RES cleared before each decode: everything up to the scalar slots (flags, counts, ids). */
const RES_CLEAR_BYTES: u32 = 84 * 4

/**
 * Encodes the call selected by op from the ARG region into OUT. Returns the byte length of the record
 * in OUT (record mark included) or a negative status.
 */
export function encode(op: u32): i32 {
  if (op == OP_NULL) {
    const st = writeCallHeader(arg(A_PROG), arg(A_VERS), 0, false)
    if (st != OK) return st
    return finishRecord(0)
  }
  if (op == OP_GETPORT) return encodeGetport()
  if (op == OP_MNT) return encodeDirpath(MOUNTPROC3_MNT)
  if (op == OP_UMNT) return encodeDirpath(MOUNTPROC3_UMNT)
  if (op >= OP_NFS && op <= OP_NFS + NFSPROC3_COMMIT) return encodeNfs(op - OP_NFS)
  if (op == OP_PMAP_SET || op == OP_PMAP_UNSET) return encodeSet(op == OP_PMAP_UNSET)
  if (op == OP_CALL) return encodeReply()
  if (op > OP_NLM && op <= OP_NLM + NLMPROC4_FREE_ALL) return encodeNlm(op - OP_NLM)
  if (op > OP_NSM && op <= OP_NSM + SM_LAST) return encodeNsm(op - OP_NSM)
  return ERR_ENC_OP
}

/**
 * Decodes the reply message in IN. total is the message length; avail (<= total) how many of its bytes
 * were copied into IN (all of them except for READ, whose data is only located). The inbound map is
 * applied when mapOn != 0. Returns OK with the results in RES (and ENT), or a negative status.
 */
export function decode(op: u32, total: u32, avail: u32, mapOn: u32, su: u32, sg: u32, lu: u32, lg: u32): i32 {
  if (total > IN_SIZE || avail > total) return ERR_INPUT_TOO_LARGE
  memory.fill(RES_PTR, 0, RES_CLEAR_BYTES)
  readerInit(IN_PTR, IN_PTR + avail)
  setMap(mapOn != 0, su, sg, lu, lg)
  if (op == OP_CALL) return decodeCall()
  const h = readReplyHeader()
  if (h < 0) return h
  if (h > 0) return OK // RPC-level failure: no results
  if (op == OP_NULL || op == OP_UMNT) return readerError()
  if (op == OP_GETPORT) return decodeGetport()
  if (op == OP_MNT) return decodeMnt()
  if (op > OP_NFS && op <= OP_NFS + NFSPROC3_COMMIT) return decodeNfs(op - OP_NFS, IN_PTR + total)
  if (op == OP_PMAP_SET || op == OP_PMAP_UNSET) return decodeBoolResult()
  // FREE_ALL and GRANTED_RES results are void
  if (op == OP_NLM + NLMPROC4_FREE_ALL || op == OP_NLM + NLMPROC4_GRANTED_RES) return readerError()
  if (op > OP_NLM && op <= OP_NLM + NLMPROC4_FREE_ALL) return decodeNlm(op == OP_NLM + NLMPROC4_TEST)
  if (op > OP_NSM && op <= OP_NSM + SM_LAST) return decodeNsm(op - OP_NSM)
  return ERR_BAD_OP
}

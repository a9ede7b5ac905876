// Portmapper v2, RFC 1833 §3: GETPORT (procedure 3) maps {prog, vers, prot} to a port, 0 = not registered.
// Sent with AUTH_NONE: rpcbind needs no identity and some refuse AUTH_SYS from unprivileged ports.

import { A_U0, A_U1, A_U2, A_U3, R_U0, arg, res } from './layout'
import { OK } from './status'
import { writeCallHeader, finishRecord } from './rpc'
import { wrU32, rdU32, rdBool, readerError } from './xdr'

const PMAP_PROG: u32 = 100000
const PMAP_VERS: u32 = 2
const PMAPPROC_GETPORT: u32 = 3

/** mapping { prog = A_U0, vers = A_U1, prot = A_U2, port = 0 } */
export function encodeGetport(): i32 {
  const st = writeCallHeader(PMAP_PROG, PMAP_VERS, PMAPPROC_GETPORT, false)
  if (st != OK) return st
  wrU32(arg(A_U0))
  wrU32(arg(A_U1))
  wrU32(arg(A_U2))
  wrU32(0)
  return finishRecord(0)
}

/** Result: unsigned int port, into R_U0. */
export function decodeGetport(): i32 {
  res(R_U0, rdU32())
  return readerError()
}

const PMAPPROC_SET: u32 = 1
const PMAPPROC_UNSET: u32 = 2

/**
 * SET or UNSET of mapping { prog = A_U0, vers = A_U1, prot = A_U2, port = A_U3 }: registers this
 * host's NLM callback service (rpcbind accepts these from local callers only).
 */
export function encodeSet(unset: bool): i32 {
  const st = writeCallHeader(PMAP_PROG, PMAP_VERS, unset ? PMAPPROC_UNSET : PMAPPROC_SET, false)
  if (st != OK) return st
  wrU32(arg(A_U0))
  wrU32(arg(A_U1))
  wrU32(arg(A_U2))
  wrU32(unset ? 0 : arg(A_U3))
  return finishRecord(0)
}

/** Result: bool, into R_U0. */
export function decodeBoolResult(): i32 {
  res(R_U0, rdBool() ? 1 : 0)
  return readerError()
}

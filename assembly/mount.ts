// MOUNT v3, RFC 1813 §5.2.1 MNT and §5.2.3 UMNT. MNT is what hands out the root file handle and the
// list of auth flavors the export accepts (the proto layer checks AUTH_SYS is in it).

import {
  A_NAME1_LEN, ARG_NAME1, MNTPATHLEN, FHSIZE3, MAX_FLAVORS, R_STATUS, R_FH_OFF, R_FH_LEN, R_COUNT,
  R_FLAVORS, IN_PTR, arg, res,
} from './layout'
import { OK, ERR_ENC_NAME, ERR_FH_TOO_LONG, ERR_TOO_MANY_FLAVORS } from './status'
import { writeCallHeader, finishRecord } from './rpc'
import { wrOpaqueVar, rdU32, rdOpaqueVar, opaqueLen, readerError, fail } from './xdr'

const MOUNT_PROG: u32 = 100005
const MOUNT_V3: u32 = 3
const MNT3_OK: u32 = 0

/** MNT and UMNT both take dirpath<MNTPATHLEN> (ARG_NAME1). */
export function encodeDirpath(proc: u32): i32 {
  const n = arg(A_NAME1_LEN)
  if (n > MNTPATHLEN) return ERR_ENC_NAME
  const st = writeCallHeader(MOUNT_PROG, MOUNT_V3, proc, true)
  if (st != OK) return st
  wrOpaqueVar(ARG_NAME1, n)
  return finishRecord(0)
}

/** mountres3: mountstat3, then on MNT3_OK { fhandle3<64>, int auth_flavors<> }. */
export function decodeMnt(): i32 {
  const status = rdU32()
  res(R_STATUS, status)
  if (readerError() != 0 || status != MNT3_OK) return readerError()
  const fh = rdOpaqueVar(FHSIZE3, ERR_FH_TOO_LONG)
  res(R_FH_OFF, <u32>(fh - IN_PTR))
  res(R_FH_LEN, opaqueLen())
  const n = rdU32()
  if (readerError() != 0) return readerError()
  if (n > MAX_FLAVORS) {
    fail(ERR_TOO_MANY_FLAVORS)
    return readerError()
  }
  for (let i: u32 = 0; i < n && readerError() == 0; i++) res(R_FLAVORS + i, rdU32())
  res(R_COUNT, n)
  return readerError()
}

// NSM, the status monitor (program 100024 version 1, XNFS "Network Status Monitor Protocol"):
// SM_STAT, SM_MON, SM_UNMON, SM_UNMON_ALL and SM_NOTIFY, and its callback to the monitoring
// program (struct status { mon_name, state, priv[16] }), decoded by decodeCall in nlm.ts's style.
//
// ARG: ARG_NAME1 mon_name, ARG_NAME2 my_name, A_U0 my_prog, A_U1 my_vers, A_U2 my_proc, A_U3 state
// (SM_NOTIFY), ARG_VERF 16 bytes of priv (SM_MON).

import { ARG_NAME1, ARG_NAME2, ARG_VERF, A_NAME1_LEN, A_NAME2_LEN, A_U0, A_U1, A_U2, A_U3, R_STATUS, R_U0, arg, res } from './layout'
import { OK, ERR_ENC_NAME, ERR_ENC_OP } from './status'
import { writeCallHeader, finishRecord } from './rpc'
import { rdU32, readerError, wrU32, wrOpaqueVar, wrOpaqueFixed } from './xdr'

const SM_PROG: u32 = 100024
const SM_VERS: u32 = 1
const SM_STAT: u32 = 1
const SM_MON: u32 = 2
const SM_UNMON: u32 = 3
const SM_UNMON_ALL: u32 = 4
const SM_NOTIFY: u32 = 6
/** SM_MAXSTRLEN */
const SM_MAXSTRLEN: u32 = 1024

function myId(): void {
  wrOpaqueVar(ARG_NAME2, arg(A_NAME2_LEN))
  wrU32(arg(A_U0))
  wrU32(arg(A_U1))
  wrU32(arg(A_U2))
}

/** Encodes SM procedure `proc`; AUTH_SYS when A_FLAVOR says so (rpc.statd wants a local caller, not a flavor). */
export function encodeNsm(proc: u32): i32 {
  if (arg(A_NAME1_LEN) > SM_MAXSTRLEN || arg(A_NAME2_LEN) > SM_MAXSTRLEN) return ERR_ENC_NAME
  const st = writeCallHeader(SM_PROG, SM_VERS, proc, true)
  if (st != OK) return st
  if (proc == SM_STAT) {
    wrOpaqueVar(ARG_NAME1, arg(A_NAME1_LEN)) // sm_name
  } else if (proc == SM_MON) {
    wrOpaqueVar(ARG_NAME1, arg(A_NAME1_LEN)) // mon { mon_id { mon_name, my_id }, priv[16] }
    myId()
    wrOpaqueFixed(ARG_VERF, 16)
  } else if (proc == SM_UNMON) {
    wrOpaqueVar(ARG_NAME1, arg(A_NAME1_LEN)) // mon_id
    myId()
  } else if (proc == SM_UNMON_ALL) {
    myId() // my_id
  } else if (proc == SM_NOTIFY) {
    wrOpaqueVar(ARG_NAME1, arg(A_NAME1_LEN)) // stat_chge { mon_name, state }
    wrU32(arg(A_U3))
  } else {
    return ERR_ENC_OP
  }
  return finishRecord(0)
}

/** sm_stat_res { res_stat, state } (STAT, MON) into R_STATUS and R_U0; sm_stat { state } (UNMON, UNMON_ALL) into R_U0. */
export function decodeNsm(proc: u32): i32 {
  if (proc == SM_STAT || proc == SM_MON) res(R_STATUS, rdU32())
  if (proc != SM_NOTIFY) res(R_U0, rdU32())
  return readerError()
}

// LockCodec: the lock protocols on the same WASM core as XdrCodec (assembly/nlm.ts, nsm.ts,
// portmap.ts): NLM v4 calls and results, the GRANTED callback (a call in, a reply out), NSM calls,
// and portmapper SET/UNSET for the callback service. Few calls per lock, so plain objects and
// copies everywhere: nothing here is on a hot path.
import type { Decoded, CodecCore, XdrCodec } from './codec.js'
import { XdrEncodeError } from './errors.js'
import type { AuthSys } from './types.js'

import {
  A_FH1_LEN, A_FH2_LEN, A_NAME1_LEN, A_NAME2_LEN, A_OFFSET, A_SIZE, A_U0, A_U1, A_U2, A_U3, FL_BOOL0, OP_CALL, OP_NLM,
  OP_NSM, OP_PMAP_SET, OP_PMAP_UNSET, R_DATA_OFF, R_F0, R_FH_OFF, R_FLAGS, R_KIND, R_STATUS, R_U0,
} from './layout.js'

/** XNFS NLM program and procedure numbers (nlm4 numbering). */
export const NLM_PROG = 100021
export const NLM_VERS = 4
export const NLMPROC4_TEST = 1
export const NLMPROC4_LOCK = 2
export const NLMPROC4_CANCEL = 3
export const NLMPROC4_UNLOCK = 4
export const NLMPROC4_GRANTED = 5
export const NLMPROC4_GRANTED_MSG = 10
export const NLMPROC4_GRANTED_RES = 15
export const NLMPROC4_FREE_ALL = 23

/** nlm4_stats. */
export const NLM4_GRANTED = 0
export const NLM4_DENIED = 1
export const NLM4_DENIED_NOLOCKS = 2
export const NLM4_BLOCKED = 3
export const NLM4_DENIED_GRACE_PERIOD = 4
export const NLM4_DEADLCK = 5
export const NLM4_ROFS = 6
export const NLM4_STALE_FH = 7
export const NLM4_FBIG = 8
export const NLM4_FAILED = 9

export const SM_PROG = 100024
export const SM_VERS = 1
export const SM_STAT = 1
export const SM_MON = 2
export const SM_UNMON = 3
export const SM_UNMON_ALL = 4
export const SM_NOTIFY = 6

/** accept_stat of RFC 5531 §9 for replies this side sends. */
export const ACCEPT_SUCCESS = 0
export const ACCEPT_PROG_UNAVAIL = 1
export const ACCEPT_PROG_MISMATCH = 2
export const ACCEPT_PROC_UNAVAIL = 3
export const ACCEPT_GARBAGE_ARGS = 4
export const ACCEPT_SYSTEM_ERR = 5

const LM_MAXSTRLEN = 1024
const MAXNETOBJ_SZ = 1024
const COOKIE_MAX = 256
const FH_MAX = 64
const U64_MAX = (1n << 64n) - 1n

const FLAG_EXCLUSIVE = 1
const FLAG_BLOCK = 2
const FLAG_RECLAIM = 4

/** nlm4_lock: who (caller_name, oh, svid) locks what (fh, l_offset, l_len; l_len 0 = to the end). */
export interface NlmLock {
  callerName: string
  fh: Buffer
  oh: Buffer
  svid: number
  offset: bigint
  len: bigint
}

/** nlm4_holder: the lock that made a TEST fail. */
export interface NlmHolder {
  exclusive: boolean
  svid: number
  oh: Buffer
  offset: bigint
  len: bigint
}

export interface NlmRes {
  cookie: Buffer
  stat: number
}

export interface NlmTestRes extends NlmRes {
  holder?: NlmHolder
}

/** A call that reached the callback service; `granted` when it is a well-formed NLM4 GRANTED(_MSG). */
export interface RpcCallIn {
  xid: number
  rpcvers: number
  prog: number
  vers: number
  proc: number
  flavor: number
  granted?: { cookie: Buffer; exclusive: boolean; lock: NlmLock }
}

export interface SmStat {
  /** sm_res of SM_STAT and SM_MON: 0 STAT_SUCC, 1 STAT_FAIL (absent for UNMON). */
  result?: number
  state: number
}

function u64(v: bigint, what: string): bigint {
  if (v < 0n || v > U64_MAX) throw new XdrEncodeError('bad-integer', `${what} = ${v}`)
  return v
}

function i32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) throw new XdrEncodeError('bad-integer', `${what} = ${v}`)
  return v >>> 0
}

export class LockCodec {
  readonly #c: CodecCore

  constructor(codec: XdrCodec) {
    this.#c = codec.core()
  }

  #bytes(a: number, word: number, at: number, b: Buffer, max: number, what: string): void {
    if (b.length > max) throw new XdrEncodeError(what === 'fh' ? 'fh-too-long' : 'name-too-long', `${what} of ${b.length} bytes, at most ${max}`)
    this.#c.u8.set(b, at)
    this.#c.u32[a + word] = b.length
  }

  #string(a: number, word: number, at: number, s: string, max: number): void {
    const n = this.#c.str(s, at, max)
    if (n < 0) throw new XdrEncodeError('name-too-long', `name is over ${max} bytes`)
    this.#c.u32[a + word] = n
  }

  #lock(a: number, cookie: Buffer, l: NlmLock): void {
    const { areas, u32, u64: w64 } = this.#c
    this.#bytes(a, A_FH2_LEN, areas.fh2, cookie, COOKIE_MAX, 'cookie')
    this.#string(a, A_NAME1_LEN, areas.name1, l.callerName, LM_MAXSTRLEN)
    this.#bytes(a, A_FH1_LEN, areas.fh1, l.fh, FH_MAX, 'fh')
    this.#bytes(a, A_NAME2_LEN, areas.name2, l.oh, MAXNETOBJ_SZ, 'oh')
    u32[a + A_U1] = i32(l.svid, 'svid')
    w64[(a + A_OFFSET) >>> 1] = u64(l.offset, 'l_offset')
    w64[(a + A_SIZE) >>> 1] = u64(l.len, 'l_len')
  }

  // ---- NLM v4 calls --------------------------------------------------------------------------

  nlmTest(xid: number, cred: AuthSys, cookie: Buffer, exclusive: boolean, lock: NlmLock): Buffer {
    const a = this.#c.begin(xid, cred)
    this.#lock(a, cookie, lock)
    this.#c.u32[a + A_U0] = exclusive ? FLAG_EXCLUSIVE : 0
    return this.#c.encode(OP_NLM + NLMPROC4_TEST)
  }

  /** STATE: this client's NSM state number (the server compares it on reboot notification). */
  nlmLock(xid: number, cred: AuthSys, cookie: Buffer, how: { block: boolean; exclusive: boolean; reclaim: boolean }, lock: NlmLock, state: number): Buffer {
    const a = this.#c.begin(xid, cred)
    this.#lock(a, cookie, lock)
    this.#c.u32[a + A_U0] = (how.exclusive ? FLAG_EXCLUSIVE : 0) | (how.block ? FLAG_BLOCK : 0) | (how.reclaim ? FLAG_RECLAIM : 0)
    this.#c.u32[a + A_U2] = i32(state, 'state')
    return this.#c.encode(OP_NLM + NLMPROC4_LOCK)
  }

  nlmCancel(xid: number, cred: AuthSys, cookie: Buffer, block: boolean, exclusive: boolean, lock: NlmLock): Buffer {
    const a = this.#c.begin(xid, cred)
    this.#lock(a, cookie, lock)
    this.#c.u32[a + A_U0] = (exclusive ? FLAG_EXCLUSIVE : 0) | (block ? FLAG_BLOCK : 0)
    return this.#c.encode(OP_NLM + NLMPROC4_CANCEL)
  }

  nlmUnlock(xid: number, cred: AuthSys, cookie: Buffer, lock: NlmLock): Buffer {
    const a = this.#c.begin(xid, cred)
    this.#lock(a, cookie, lock)
    return this.#c.encode(OP_NLM + NLMPROC4_UNLOCK)
  }

  /** The answer to a GRANTED_MSG: nlm4_res { cookie, stat } as a call of its own. */
  nlmGrantedRes(xid: number, cred: AuthSys, cookie: Buffer, stat: number): Buffer {
    const a = this.#c.begin(xid, cred)
    this.#bytes(a, A_FH2_LEN, this.#c.areas.fh2, cookie, COOKIE_MAX, 'cookie')
    this.#c.u32[a + A_U3] = i32(stat, 'stat')
    return this.#c.encode(OP_NLM + NLMPROC4_GRANTED_RES)
  }

  /** nlm4_notify { name, state }: the server drops every lock held under caller_name NAME. */
  nlmFreeAll(xid: number, cred: AuthSys, name: string, state: number): Buffer {
    const a = this.#c.begin(xid, cred)
    this.#string(a, A_NAME1_LEN, this.#c.areas.name1, name, LM_MAXSTRLEN)
    this.#c.u32[a + A_U2] = i32(state, 'state')
    return this.#c.encode(OP_NLM + NLMPROC4_FREE_ALL)
  }

  /** nlm4_res of LOCK, CANCEL, UNLOCK (and of GRANTED, for tests playing the server). */
  decodeNlmRes(msg: Buffer, proc: number): Decoded<NlmRes> {
    const reply = this.#c.decode(OP_NLM + proc, msg)
    if (reply.kind !== 'success') return { reply }
    return { reply, res: { cookie: this.#slice(msg, R_FH_OFF), stat: this.#w(R_STATUS) } }
  }

  decodeNlmTest(msg: Buffer): Decoded<NlmTestRes> {
    const reply = this.#c.decode(OP_NLM + NLMPROC4_TEST, msg)
    if (reply.kind !== 'success') return { reply }
    const stat = this.#w(R_STATUS)
    const res: NlmTestRes = { cookie: this.#slice(msg, R_FH_OFF), stat }
    if (stat === NLM4_DENIED) {
      res.holder = {
        exclusive: (this.#w(R_FLAGS) & FL_BOOL0) !== 0,
        svid: this.#w(R_U0) | 0,
        oh: this.#slice(msg, R_DATA_OFF),
        offset: this.#w64(R_F0),
        len: this.#w64(R_F0 + 2),
      }
    }
    return { reply, res }
  }

  /** Void results (FREE_ALL, GRANTED_RES, SM_NOTIFY, NULL). */
  decodeVoid(msg: Buffer, op: 'free_all' | 'granted_res' | 'sm_notify'): Decoded<void> {
    const code = op === 'free_all' ? OP_NLM + NLMPROC4_FREE_ALL : op === 'granted_res' ? OP_NLM + NLMPROC4_GRANTED_RES : OP_NSM + SM_NOTIFY
    const reply = this.#c.decode(code, msg)
    return reply.kind === 'success' ? { reply, res: undefined } : { reply }
  }

  // ---- the callback service's side ------------------------------------------------------------

  /** An incoming call message (record mark removed). Throws XdrDecodeError when it is malformed. */
  decodeCall(msg: Buffer): RpcCallIn {
    this.#c.decode(OP_CALL, msg)
    const call: RpcCallIn = {
      xid: this.#w(R_U0), rpcvers: this.#w(R_U0 + 1), prog: this.#w(R_U0 + 2), vers: this.#w(R_U0 + 3),
      proc: this.#w(R_U0 + 4), flavor: this.#w(R_U0 + 5),
    }
    if (this.#w(R_KIND) === 1) {
      call.granted = {
        cookie: this.#slice(msg, R_FH_OFF),
        exclusive: (this.#w(R_FLAGS) & FL_BOOL0) !== 0,
        lock: {
          callerName: this.#slice(msg, R_U0 + 6).toString('utf8'),
          fh: this.#slice(msg, R_U0 + 8),
          oh: this.#slice(msg, R_DATA_OFF),
          svid: this.#w(R_U0 + 10) | 0,
          offset: this.#w64(R_F0),
          len: this.#w64(R_F0 + 2),
        },
      }
    }
    return call
  }

  /**
   * An accepted reply to XID: ACCEPT_* status; with SUCCESS and `res` an nlm4_res follows, with
   * PROG_MISMATCH the supported range.
   */
  reply(xid: number, acceptStat: number, res?: NlmRes, mismatch?: { low: number; high: number }): Buffer {
    const a = this.#c.begin(xid, null)
    const w = this.#c.u32
    w[a + A_U0] = acceptStat
    w[a + A_U1] = mismatch?.low ?? 0
    w[a + A_U2] = mismatch?.high ?? 0
    w[a + A_U3] = 0xffffffff
    if (res !== undefined) {
      this.#bytes(a, A_FH2_LEN, this.#c.areas.fh2, res.cookie, COOKIE_MAX, 'cookie')
      w[a + A_U3] = i32(res.stat, 'stat')
    }
    return this.#c.encode(OP_CALL)
  }

  // ---- NSM --------------------------------------------------------------------------------------

  /** SM_MON: watch MON_NAME; on its reboot statd calls MY_NAME's (prog, vers, proc) with PRIV (16 bytes). */
  smMon(xid: number, monName: string, my: { name: string; prog: number; vers: number; proc: number }, priv: Buffer): Buffer {
    if (priv.length !== 16) throw new XdrEncodeError('bad-verifier', `priv must be 16 bytes, got ${priv.length}`)
    this.#smBegin(xid, monName, my)
    this.#c.u8.set(priv, this.#c.areas.verf)
    return this.#c.encode(OP_NSM + SM_MON)
  }

  smUnmon(xid: number, monName: string, my: { name: string; prog: number; vers: number; proc: number }): Buffer {
    this.#smBegin(xid, monName, my)
    return this.#c.encode(OP_NSM + SM_UNMON)
  }

  smUnmonAll(xid: number, my: { name: string; prog: number; vers: number; proc: number }): Buffer {
    this.#smBegin(xid, '', my)
    return this.#c.encode(OP_NSM + SM_UNMON_ALL)
  }

  smStat(xid: number, monName: string): Buffer {
    this.#smBegin(xid, monName, { name: '', prog: 0, vers: 0, proc: 0 })
    return this.#c.encode(OP_NSM + SM_STAT)
  }

  /** SM_NOTIFY stat_chge { mon_name, state }: MON_NAME (this host) rebooted and is now at STATE. */
  smNotify(xid: number, monName: string, state: number): Buffer {
    const a = this.#smBegin(xid, monName, { name: '', prog: 0, vers: 0, proc: 0 })
    this.#c.u32[a + A_U3] = i32(state, 'state')
    return this.#c.encode(OP_NSM + SM_NOTIFY)
  }

  decodeSm(msg: Buffer, proc: typeof SM_STAT | typeof SM_MON | typeof SM_UNMON | typeof SM_UNMON_ALL): Decoded<SmStat> {
    const reply = this.#c.decode(OP_NSM + proc, msg)
    if (reply.kind !== 'success') return { reply }
    const state = this.#w(R_U0) | 0
    return { reply, res: proc === SM_STAT || proc === SM_MON ? { result: this.#w(R_STATUS), state } : { state } }
  }

  #smBegin(xid: number, monName: string, my: { name: string; prog: number; vers: number; proc: number }): number {
    const a = this.#c.begin(xid, null)
    this.#string(a, A_NAME1_LEN, this.#c.areas.name1, monName, LM_MAXSTRLEN)
    this.#string(a, A_NAME2_LEN, this.#c.areas.name2, my.name, LM_MAXSTRLEN)
    const w = this.#c.u32
    w[a + A_U0] = i32(my.prog, 'my_prog')
    w[a + A_U1] = i32(my.vers, 'my_vers')
    w[a + A_U2] = i32(my.proc, 'my_proc')
    return a
  }

  // ---- portmapper SET / UNSET (RFC 1833 §3) ------------------------------------------------------

  pmapSet(xid: number, prog: number, vers: number, prot: number, port: number): Buffer {
    return this.#pmap(xid, OP_PMAP_SET, prog, vers, prot, port)
  }

  pmapUnset(xid: number, prog: number, vers: number, prot: number): Buffer {
    return this.#pmap(xid, OP_PMAP_UNSET, prog, vers, prot, 0)
  }

  /** SET/UNSET result: did the portmapper do it. */
  decodePmapBool(msg: Buffer, unset: boolean): Decoded<boolean> {
    const reply = this.#c.decode(unset ? OP_PMAP_UNSET : OP_PMAP_SET, msg)
    return reply.kind === 'success' ? { reply, res: this.#w(R_U0) === 1 } : { reply }
  }

  #pmap(xid: number, op: number, prog: number, vers: number, prot: number, port: number): Buffer {
    const a = this.#c.begin(xid, null)
    const w = this.#c.u32
    w[a + A_U0] = i32(prog, 'prog')
    w[a + A_U1] = i32(vers, 'vers')
    w[a + A_U2] = i32(prot, 'prot')
    w[a + A_U3] = i32(port, 'port')
    return this.#c.encode(op)
  }

  // ---- results ------------------------------------------------------------------------------------

  #w(i: number): number {
    return this.#c.u32[this.#c.res + i] as number
  }

  #w64(i: number): bigint {
    return this.#c.u64[(this.#c.res + i) >>> 1] as bigint
  }

  /** A copy of the byte string whose (offset, length) sit at RES words i, i + 1 (R_FH_OFF/LEN, R_DATA_OFF/LEN, ...). */
  #slice(msg: Buffer, i: number): Buffer {
    const off = this.#w(i)
    return Buffer.from(msg.subarray(off, off + this.#w(i + 1)))
  }
}

// XdrCodec: the TS face of the WASM core in assembly/ (see src/xdr/index.ts for the design note).
//
// Per call: scalars and byte strings go into the ARG region through typed-array views, one encode(op)
// call builds the record in OUT, one copy takes it out. Per reply: one copy of the message into IN
// (only the headers for READ), one decode(...) call, results read from native-endian RES/ENT words.
// The views are rebuilt only if memory.buffer changes (it cannot: the module's memory is fixed at
// 89 pages, but the check is one comparison).

import { readFileSync } from 'node:fs'
import type {
  AuthSys,
  InboundMap,
  ReplyStatus,
  Sattr3,
  CreateHow3,
  NfsTime3,
  Fattr3,
  GetattrRes,
  SetattrRes,
  LookupRes,
  AccessRes,
  ReadlinkRes,
  ReadRes,
  WriteRes,
  CreateRes,
  RemoveRes,
  RenameRes,
  LinkRes,
  ReaddirplusRes,
  Entryplus3,
  FsstatRes,
  FsinfoRes,
  PathconfRes,
  CommitRes,
  MntRes,
} from './types.js'
import { EXCLUSIVE, GUARDED, UNCHECKED, NF3BLK, NF3CHR, NF3DIR, NF3FIFO, NF3LNK, NF3REG, NF3SOCK } from './types.js'
import { XdrDecodeError, XdrEncodeError, type XdrDecodeReason, type XdrEncodeReason } from './errors.js'
import {
  AUTH_SYS_MAX_GIDS,
  AUTH_SYS_MAX_MACHINENAME,
  MAX_NAME_BYTES,
  MNTPATHLEN,
  NFS3_FHSIZE,
  NFSPROC3_ACCESS,
  NFSPROC3_COMMIT,
  NFSPROC3_CREATE,
  NFSPROC3_FSINFO,
  NFSPROC3_FSSTAT,
  NFSPROC3_GETATTR,
  NFSPROC3_LINK,
  NFSPROC3_LOOKUP,
  NFSPROC3_MKDIR,
  NFSPROC3_MKNOD,
  NFSPROC3_PATHCONF,
  NFSPROC3_READ,
  NFSPROC3_READDIRPLUS,
  NFSPROC3_READLINK,
  NFSPROC3_REMOVE,
  NFSPROC3_RENAME,
  NFSPROC3_RMDIR,
  NFSPROC3_SETATTR,
  NFSPROC3_SYMLINK,
  NFSPROC3_WRITE,
} from './constants.js'

/** One decoded reply: `res` is present iff `reply.kind === 'success'`. */
export type Decoded<T> = { reply: ReplyStatus; res?: T }

/** Bytes of XDR pad after an opaque of n bytes (RFC 4506 §4.10): what the caller of writeHeader() sends after the data. */
export function xdrPadLength(n: number): number {
  return (4 - (n & 3)) & 3
}

import {
  A_XID,
  A_FLAVOR,
  A_STAMP,
  A_UID,
  A_GID,
  A_NGIDS,
  A_MACH_LEN,
  A_PROG,
  A_VERS,
  A_GIDS,
  A_FH1_LEN,
  A_FH2_LEN,
  A_NAME1_LEN,
  A_NAME2_LEN,
  A_U0,
  A_U1,
  A_U2,
  A_OFFSET,
  A_SIZE,
  A_COOKIE_U64,
  A_SATTR_FLAGS,
  A_MODE,
  A_SUID,
  A_SGID,
  A_ATIME_HOW,
  A_MTIME_HOW,
  A_GUARD,
  A_GUARD_S,
  A_GUARD_NS,
  A_SPEC1,
  A_SPEC2,
  SATTR_MODE,
  SATTR_UID,
  SATTR_GID,
  SATTR_SIZE,
  R_KIND,
  R_LOW,
  R_HIGH,
  R_STATUS,
  R_FLAGS,
  R_COUNT,
  R_ATTR_A,
  R_ATTR_B,
  R_FH_OFF,
  R_FH_LEN,
  R_DATA_OFF,
  R_DATA_LEN,
  R_U0,
  R_F0,
  R_FLAVORS,
  FL_ATTR_A,
  FL_ATTR_B,
  FL_FH,
  FL_EOF,
  FL_BOOL0,
  FA_SIZE_F64,
  E_FLAGS,
  E_NAME_OFF,
  E_NAME_LEN,
  E_FH_OFF,
  E_FH_LEN,
  E_COOKIE_U64,
  E_FILEID_U64,
  E_ATTR,
  OP_NULL,
  OP_GETPORT,
  OP_MNT,
  OP_UMNT,
  OP_NFS,
} from './layout.js'

const AUTH_NONE = 0
const AUTH_SYS = 1
const TIME_DONT_CHANGE = 0
const TIME_SERVER = 1
const TIME_CLIENT = 2

/**
 * READ replies are copied into WASM only up to here: the data is located, never read. The largest
 * header before the data is 28 (RPC reply) + 400 (verifier body) + 4 (status) + 88 (post_op_attr) +
 * 12 (count, eof, length) = 532 bytes.
 */
const READ_HEADER_COPY = 1024
/** A record fragment holds 2^31 - 1 bytes (RFC 5531 §11); leave room for the WRITE header. */
const MAX_WRITE_DATA = 0x7fffffff - 4096
/** 2^53: the largest offset accepted (a number above it is no longer an exact integer). */
const MAX_OFFSET = 2 ** 53
const MAX_U64 = (1n << 64n) - 1n
/** A short ASCII string is copied by a JS loop; longer or non-ASCII ones go through Buffer.write. */
const ASCII_FAST_MAX = 64

const DECODE_REASONS: Record<number, XdrDecodeReason> = {
  [-1]: 'truncated',
  [-2]: 'not-a-reply',
  [-3]: 'bad-reply-stat',
  [-4]: 'bad-accept-stat',
  [-5]: 'bad-reject-stat',
  [-6]: 'verifier-too-long',
  [-7]: 'fh-too-long',
  [-8]: 'name-too-long',
  [-9]: 'bad-bool',
  [-10]: 'too-many-flavors',
  [-11]: 'too-many-entries',
  [-12]: 'too-large',
  [-13]: 'bad-op',
  [-14]: 'data-too-long',
}

const ENCODE_REASONS: Record<number, XdrEncodeReason> = {
  [-32]: 'fh-too-long',
  [-33]: 'name-too-long',
  [-34]: 'too-many-gids',
  [-35]: 'machine-too-long',
  [-36]: 'bad-type',
  [-37]: 'too-large',
}

// Reply kinds without fields are shared, frozen objects: no allocation on the hot path.
const SUCCESS: ReplyStatus = Object.freeze({ kind: 'success' })
const PROG_UNAVAIL: ReplyStatus = Object.freeze({ kind: 'prog_unavail' })
const PROC_UNAVAIL: ReplyStatus = Object.freeze({ kind: 'proc_unavail' })
const GARBAGE_ARGS: ReplyStatus = Object.freeze({ kind: 'garbage_args' })
const SYSTEM_ERR: ReplyStatus = Object.freeze({ kind: 'system_err' })

// Node 20 has WebAssembly but @types/node 20 does not declare it (it lives in lib.dom): the few
// members used here are typed locally instead of pulling the DOM lib into every layer.
interface WasmMemory {
  readonly buffer: ArrayBuffer
}
interface WasmGlobal {
  readonly value: unknown
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: unknown }
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

interface CoreExports {
  memory: WasmMemory
  encode(op: number): number
  decode(op: number, total: number, avail: number, mapOn: number, su: number, sg: number, lu: number, lg: number): number
  heapBase(): number
  ARG_PTR: WasmGlobal
  OUT_PTR: WasmGlobal
  RES_PTR: WasmGlobal
  IN_PTR: WasmGlobal
  IN_SIZE: WasmGlobal
  ENT_PTR: WasmGlobal
  ENT_STRIDE: WasmGlobal
  MEM_END: WasmGlobal
  ARG_MACH: WasmGlobal
  ARG_VERF: WasmGlobal
  ARG_FH1: WasmGlobal
  ARG_FH2: WasmGlobal
  ARG_NAME1: WasmGlobal
  ARG_NAME2: WasmGlobal
}

/** What lock-codec.ts uses of an XdrCodec (XdrCodec.core()). */
export interface CodecCore {
  u8: Buffer
  u32: Uint32Array
  u64: BigUint64Array
  /** Byte addresses of the ARG areas (layout.ts). */
  areas: { mach: number; verf: number; fh1: number; fh2: number; name1: number; name2: number }
  /** Word index of RES. */
  res: number
  /** Starts a call; returns the word index of ARG. */
  begin(xid: number, cred: AuthSys | null): number
  /** UTF-8 of s at `at`; its byte length, or -1 when over max. */
  str(s: string, at: number, max: number): number
  encode(op: number): Buffer
  /** Decodes msg (wholly copied in); throws XdrDecodeError when malformed. */
  decode(op: number, msg: Buffer): ReplyStatus
}

let instance: XdrCodec | undefined

function badInt(what: string, v: unknown): never {
  throw new XdrEncodeError('bad-integer', `${what} = ${String(v)}`)
}

/** Validates an unsigned 32-bit integer argument. */
function u32(v: number, what: string): number {
  if (v >>> 0 !== v) badInt(what, v)
  return v
}

/** Validates an offset3/size3 given as a number: a non-negative integer no larger than 2^53. */
function u53(v: number, what: string): number {
  if (!(Number.isInteger(v) && v >= 0 && v <= MAX_OFFSET)) badInt(what, v)
  return v
}

export class XdrCodec {
  readonly #ex: CoreExports
  readonly #mem: WasmMemory
  #buf!: ArrayBuffer
  #u8!: Buffer
  #u32!: Uint32Array
  #f64!: Float64Array
  #u64!: BigUint64Array
  // addresses (bytes) and word bases
  readonly #arg: number
  readonly #out: number
  readonly #res: number
  readonly #in: number
  readonly #inSize: number
  readonly #ent: number
  readonly #entStrideW: number
  readonly #mach: number
  readonly #verf: number
  readonly #fh1: number
  readonly #fh2: number
  readonly #name1: number
  readonly #name2: number

  /** Loads build/xdr.wasm synchronously; one instance per thread (module state is per thread). */
  static load(): XdrCodec {
    if (instance === undefined) {
      const bytes = readFileSync(new URL('../../build/xdr.wasm', import.meta.url))
      const inst = new WA.Instance(new WA.Module(bytes), {})
      instance = new XdrCodec(inst.exports as unknown as CoreExports)
    }
    return instance
  }

  private constructor(ex: CoreExports) {
    this.#ex = ex
    this.#mem = ex.memory
    const g = (x: WasmGlobal): number => x.value as number
    this.#arg = g(ex.ARG_PTR)
    this.#out = g(ex.OUT_PTR)
    this.#res = g(ex.RES_PTR)
    this.#in = g(ex.IN_PTR)
    this.#inSize = g(ex.IN_SIZE)
    this.#ent = g(ex.ENT_PTR)
    this.#entStrideW = g(ex.ENT_STRIDE) >>> 2
    this.#mach = g(ex.ARG_MACH)
    this.#verf = g(ex.ARG_VERF)
    this.#fh1 = g(ex.ARG_FH1)
    this.#fh2 = g(ex.ARG_FH2)
    this.#name1 = g(ex.ARG_NAME1)
    this.#name2 = g(ex.ARG_NAME2)
    if (ex.heapBase() > this.#arg || g(ex.MEM_END) > ex.memory.buffer.byteLength) {
      throw new Error('build/xdr.wasm: static data or regions do not fit its memory (rebuild with npm run build:wasm)')
    }
    this.#views()
  }

  #views(): void {
    if (this.#mem.buffer === this.#buf) return
    const b = this.#mem.buffer
    this.#buf = b
    this.#u8 = Buffer.from(b)
    this.#u32 = new Uint32Array(b)
    this.#f64 = new Float64Array(b)
    this.#u64 = new BigUint64Array(b)
  }

  // ---------------------------------------------------------------------------------------------
  // Argument writers

  /** Starts a call: xid, credential (RFC 5531 appendix A AUTH_SYS, or AUTH_NONE) and cleared per-call words. */
  #begin(xid: number, cred: AuthSys | null): number {
    this.#views()
    const w = this.#u32
    const a = this.#arg >>> 2
    w[a + A_XID] = u32(xid, 'xid')
    w[a + A_FH1_LEN] = 0
    w[a + A_FH2_LEN] = 0
    w[a + A_NAME1_LEN] = 0
    w[a + A_NAME2_LEN] = 0
    if (cred === null) {
      w[a + A_FLAVOR] = AUTH_NONE
      return a
    }
    const gids = cred.gids
    if (gids.length > AUTH_SYS_MAX_GIDS) {
      throw new XdrEncodeError('too-many-gids', `${gids.length} gids, AUTH_SYS carries at most ${AUTH_SYS_MAX_GIDS}`)
    }
    w[a + A_FLAVOR] = AUTH_SYS
    w[a + A_STAMP] = u32(cred.stamp, 'stamp')
    w[a + A_UID] = u32(cred.uid, 'uid')
    w[a + A_GID] = u32(cred.gid, 'gid')
    w[a + A_NGIDS] = gids.length
    for (let i = 0; i < gids.length; i++) w[a + A_GIDS + i] = u32(gids[i] as number, 'gid')
    const n = this.#str(cred.machine, this.#mach, AUTH_SYS_MAX_MACHINENAME)
    if (n < 0) throw new XdrEncodeError('machine-too-long', `machinename is over ${AUTH_SYS_MAX_MACHINENAME} bytes`)
    w[a + A_MACH_LEN] = n
    return a
  }

  /** Writes s as UTF-8 at `at`; returns its byte length, or -1 when it is over max bytes. */
  #str(s: string, at: number, max: number): number {
    const len = s.length
    if (len <= ASCII_FAST_MAX) {
      const u8 = this.#u8
      let i = 0
      for (; i < len; i++) {
        const c = s.charCodeAt(i)
        if (c >= 0x80) break
        u8[at + i] = c
      }
      if (i === len) return len <= max ? len : -1
    }
    const n = Buffer.byteLength(s, 'utf8')
    if (n > max) return -1
    this.#u8.write(s, at, n, 'utf8')
    return n
  }

  #name(a: number, word: number, at: number, s: string, max = MAX_NAME_BYTES): void {
    const n = this.#str(s, at, max)
    if (n < 0) throw new XdrEncodeError('name-too-long', `name is over ${max} bytes`)
    this.#u32[a + word] = n
  }

  #fh(a: number, word: number, at: number, fh: Buffer): void {
    const n = fh.length
    if (n > NFS3_FHSIZE) throw new XdrEncodeError('fh-too-long', `file handle of ${n} bytes, nfs_fh3 holds at most ${NFS3_FHSIZE}`)
    this.#u8.set(fh, at)
    this.#u32[a + word] = n
  }

  #verf8(v: Buffer, what: string): void {
    if (v.length !== 8) throw new XdrEncodeError('bad-verifier', `${what} must be 8 bytes, got ${v.length}`)
    this.#u8.set(v, this.#verf)
  }

  /** RFC 1813 §2.6 sattr3 into the A_SATTR_* words. */
  #sattr(a: number, s: Sattr3): void {
    const w = this.#u32
    let flags = 0
    if (s.mode !== undefined) {
      flags |= SATTR_MODE
      w[a + A_MODE] = u32(s.mode, 'mode')
    }
    if (s.uid !== undefined) {
      flags |= SATTR_UID
      w[a + A_SUID] = u32(s.uid, 'uid')
    }
    if (s.gid !== undefined) {
      flags |= SATTR_GID
      w[a + A_SGID] = u32(s.gid, 'gid')
    }
    if (s.size !== undefined) {
      flags |= SATTR_SIZE
      this.#f64[(a + A_SIZE) >>> 1] = u53(s.size, 'size')
    }
    w[a + A_SATTR_FLAGS] = flags
    this.#time(a + A_ATIME_HOW, s.atime)
    this.#time(a + A_MTIME_HOW, s.mtime)
  }

  #time(at: number, t: NfsTime3 | 'server' | undefined): void {
    const w = this.#u32
    if (t === undefined) {
      w[at] = TIME_DONT_CHANGE
    } else if (t === 'server') {
      w[at] = TIME_SERVER
    } else {
      w[at] = TIME_CLIENT
      w[at + 1] = u32(t.seconds, 'seconds')
      w[at + 2] = u32(t.nseconds, 'nseconds')
    }
  }

  /**
   * Runs encode(op) and copies the record out. Buffer.allocUnsafe takes small records from Node's
   * Buffer pool: about 50 ns against 350 ns for a Buffer with its own ArrayBuffer (measured on Node 20),
   * which matters more than transferability while sockets and codec share a thread. postMessage of such
   * a Buffer copies instead of transferring.
   */
  #encode(op: number): Buffer {
    const n = this.#ex.encode(op)
    if (n < 0) throw new XdrEncodeError(ENCODE_REASONS[n] ?? 'internal', `core status ${n}`)
    const out = Buffer.allocUnsafe(n)
    this.#u8.copy(out, 0, this.#out, this.#out + n)
    return out
  }

  /**
   * The same core for lock-codec.ts (NLM, NSM, portmapper SET): argument words, byte areas and
   * result words of this instance, so the lock protocols share its one WASM module per thread.
   */
  core(): CodecCore {
    this.#views()
    return {
      u8: this.#u8,
      u32: this.#u32,
      u64: this.#u64,
      areas: { mach: this.#mach, verf: this.#verf, fh1: this.#fh1, fh2: this.#fh2, name1: this.#name1, name2: this.#name2 },
      res: this.#res >>> 2,
      begin: (xid, cred) => this.#begin(xid, cred),
      str: (s, at, max) => this.#str(s, at, max),
      encode: (op) => this.#encode(op),
      decode: (op, msg) => this.#run(op, msg, null, Infinity),
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Calls (RFC 5531 §9 call header + RFC 1833 / RFC 1813 arguments)

  /** NULL procedure (0) of any program, AUTH_NONE: pings and version probes. */
  rpcNull(xid: number, prog: number, vers: number): Buffer {
    const a = this.#begin(xid, null)
    this.#u32[a + A_PROG] = u32(prog, 'prog')
    this.#u32[a + A_VERS] = u32(vers, 'vers')
    return this.#encode(OP_NULL)
  }

  /** RFC 1833 §3 PMAPPROC_GETPORT, AUTH_NONE; prot is IPPROTO_TCP (6) or IPPROTO_UDP (17). */
  pmapGetport(xid: number, prog: number, vers: number, prot: number): Buffer {
    const a = this.#begin(xid, null)
    const w = this.#u32
    w[a + A_U0] = u32(prog, 'prog')
    w[a + A_U1] = u32(vers, 'vers')
    w[a + A_U2] = u32(prot, 'prot')
    return this.#encode(OP_GETPORT)
  }

  /** RFC 1813 §5.2.1 MOUNTPROC3_MNT dirpath<1024>. */
  mntMnt(xid: number, cred: AuthSys | null, dirpath: string): Buffer {
    const a = this.#begin(xid, cred)
    this.#name(a, A_NAME1_LEN, this.#name1, dirpath, MNTPATHLEN)
    return this.#encode(OP_MNT)
  }

  /** RFC 1813 §5.2.3 MOUNTPROC3_UMNT dirpath<1024>. */
  mntUmnt(xid: number, cred: AuthSys | null, dirpath: string): Buffer {
    const a = this.#begin(xid, cred)
    this.#name(a, A_NAME1_LEN, this.#name1, dirpath, MNTPATHLEN)
    return this.#encode(OP_UMNT)
  }

  /** RFC 1813 §3.3.1 */
  getattr(xid: number, cred: AuthSys | null, fh: Buffer): Buffer {
    const a = this.#begin(xid, cred)
    this.#fh(a, A_FH1_LEN, this.#fh1, fh)
    return this.#encode(OP_NFS + NFSPROC3_GETATTR)
  }

  /** RFC 1813 §3.3.2; guardCtime sets sattrguard3 { check: TRUE, obj_ctime }. */
  setattr(xid: number, cred: AuthSys | null, fh: Buffer, attrs: Sattr3, guardCtime?: NfsTime3): Buffer {
    const a = this.#begin(xid, cred)
    this.#fh(a, A_FH1_LEN, this.#fh1, fh)
    this.#sattr(a, attrs)
    const w = this.#u32
    if (guardCtime === undefined) {
      w[a + A_GUARD] = 0
    } else {
      w[a + A_GUARD] = 1
      w[a + A_GUARD_S] = u32(guardCtime.seconds, 'seconds')
      w[a + A_GUARD_NS] = u32(guardCtime.nseconds, 'nseconds')
    }
    return this.#encode(OP_NFS + NFSPROC3_SETATTR)
  }

  /** RFC 1813 §3.3.3 */
  lookup(xid: number, cred: AuthSys | null, dir: Buffer, name: string): Buffer {
    return this.#dirop(xid, cred, dir, name, NFSPROC3_LOOKUP)
  }

  /** RFC 1813 §3.3.4; access is a mask of ACCESS3_* bits. */
  access(xid: number, cred: AuthSys | null, fh: Buffer, access: number): Buffer {
    const a = this.#begin(xid, cred)
    this.#fh(a, A_FH1_LEN, this.#fh1, fh)
    this.#u32[a + A_U0] = u32(access, 'access')
    return this.#encode(OP_NFS + NFSPROC3_ACCESS)
  }

  /** RFC 1813 §3.3.5 */
  readlink(xid: number, cred: AuthSys | null, fh: Buffer): Buffer {
    const a = this.#begin(xid, cred)
    this.#fh(a, A_FH1_LEN, this.#fh1, fh)
    return this.#encode(OP_NFS + NFSPROC3_READLINK)
  }

  /** RFC 1813 §3.3.6 */
  read(xid: number, cred: AuthSys | null, fh: Buffer, offset: number, count: number): Buffer {
    return this.#offCount(xid, cred, fh, offset, count, NFSPROC3_READ)
  }

  /**
   * RFC 1813 §3.3.7 WRITE, header only: the record mark and the data<> length cover dataLength bytes plus
   * xdrPadLength(dataLength) zero bytes, which the caller must send right after the returned Buffer.
   */
  writeHeader(
    xid: number,
    cred: AuthSys | null,
    fh: Buffer,
    offset: number,
    count: number,
    stable: number,
    dataLength: number,
  ): Buffer {
    const a = this.#begin(xid, cred)
    this.#fh(a, A_FH1_LEN, this.#fh1, fh)
    const w = this.#u32
    this.#f64[(a + A_OFFSET) >>> 1] = u53(offset, 'offset')
    w[a + A_U0] = u32(count, 'count')
    w[a + A_U1] = u32(stable, 'stable')
    w[a + A_U2] = u32(dataLength, 'dataLength')
    if (dataLength > MAX_WRITE_DATA) {
      throw new XdrEncodeError('too-large', `WRITE of ${dataLength} bytes does not fit one record fragment`)
    }
    return this.#encode(OP_NFS + NFSPROC3_WRITE)
  }

  /** RFC 1813 §3.3.8; EXCLUSIVE takes an 8-byte createverf3. */
  create(xid: number, cred: AuthSys | null, dir: Buffer, name: string, how: CreateHow3): Buffer {
    const a = this.#begin(xid, cred)
    this.#fh(a, A_FH1_LEN, this.#fh1, dir)
    this.#name(a, A_NAME1_LEN, this.#name1, name)
    if (how.mode === EXCLUSIVE) {
      this.#verf8(how.verf, 'createverf3')
    } else if (how.mode === UNCHECKED || how.mode === GUARDED) {
      this.#sattr(a, how.attrs)
    } else {
      throw new XdrEncodeError('bad-type', `createmode3 ${String((how as { mode: unknown }).mode)}`)
    }
    this.#u32[a + A_U0] = how.mode
    return this.#encode(OP_NFS + NFSPROC3_CREATE)
  }

  /** RFC 1813 §3.3.9 */
  mkdir(xid: number, cred: AuthSys | null, dir: Buffer, name: string, attrs: Sattr3): Buffer {
    const a = this.#begin(xid, cred)
    this.#fh(a, A_FH1_LEN, this.#fh1, dir)
    this.#name(a, A_NAME1_LEN, this.#name1, name)
    this.#sattr(a, attrs)
    return this.#encode(OP_NFS + NFSPROC3_MKDIR)
  }

  /** RFC 1813 §3.3.10; target is nfspath3 (bounded like a name, 4096 bytes). */
  symlink(xid: number, cred: AuthSys | null, dir: Buffer, name: string, attrs: Sattr3, target: string): Buffer {
    const a = this.#begin(xid, cred)
    this.#fh(a, A_FH1_LEN, this.#fh1, dir)
    this.#name(a, A_NAME1_LEN, this.#name1, name)
    this.#name(a, A_NAME2_LEN, this.#name2, target)
    this.#sattr(a, attrs)
    return this.#encode(OP_NFS + NFSPROC3_SYMLINK)
  }

  /**
   * RFC 1813 §3.3.11. type NF3CHR/NF3BLK need spec (specdata3); NF3SOCK/NF3FIFO carry sattr3 only;
   * NF3REG/NF3DIR/NF3LNK select the void arm (servers answer NFS3ERR_BADTYPE).
   */
  mknod(
    xid: number,
    cred: AuthSys | null,
    dir: Buffer,
    name: string,
    type: number,
    attrs: Sattr3,
    spec?: { major: number; minor: number },
  ): Buffer {
    const a = this.#begin(xid, cred)
    this.#fh(a, A_FH1_LEN, this.#fh1, dir)
    this.#name(a, A_NAME1_LEN, this.#name1, name)
    const w = this.#u32
    if (type === NF3CHR || type === NF3BLK) {
      if (spec === undefined) throw new XdrEncodeError('bad-type', 'MKNOD of a device needs spec { major, minor }')
      w[a + A_SPEC1] = u32(spec.major, 'major')
      w[a + A_SPEC2] = u32(spec.minor, 'minor')
      this.#sattr(a, attrs)
    } else if (type === NF3SOCK || type === NF3FIFO) {
      this.#sattr(a, attrs)
    } else if (type !== NF3REG && type !== NF3DIR && type !== NF3LNK) {
      throw new XdrEncodeError('bad-type', `ftype3 ${type}`)
    }
    w[a + A_U0] = type
    return this.#encode(OP_NFS + NFSPROC3_MKNOD)
  }

  /** RFC 1813 §3.3.12 */
  remove(xid: number, cred: AuthSys | null, dir: Buffer, name: string): Buffer {
    return this.#dirop(xid, cred, dir, name, NFSPROC3_REMOVE)
  }

  /** RFC 1813 §3.3.13 */
  rmdir(xid: number, cred: AuthSys | null, dir: Buffer, name: string): Buffer {
    return this.#dirop(xid, cred, dir, name, NFSPROC3_RMDIR)
  }

  /** RFC 1813 §3.3.14 */
  rename(xid: number, cred: AuthSys | null, fromDir: Buffer, fromName: string, toDir: Buffer, toName: string): Buffer {
    const a = this.#begin(xid, cred)
    this.#fh(a, A_FH1_LEN, this.#fh1, fromDir)
    this.#name(a, A_NAME1_LEN, this.#name1, fromName)
    this.#fh(a, A_FH2_LEN, this.#fh2, toDir)
    this.#name(a, A_NAME2_LEN, this.#name2, toName)
    return this.#encode(OP_NFS + NFSPROC3_RENAME)
  }

  /** RFC 1813 §3.3.15: fh is the existing file, dir/name the new link. */
  link(xid: number, cred: AuthSys | null, fh: Buffer, dir: Buffer, name: string): Buffer {
    const a = this.#begin(xid, cred)
    this.#fh(a, A_FH1_LEN, this.#fh1, fh)
    this.#fh(a, A_FH2_LEN, this.#fh2, dir)
    this.#name(a, A_NAME1_LEN, this.#name1, name)
    return this.#encode(OP_NFS + NFSPROC3_LINK)
  }

  /** RFC 1813 §3.3.17; cookie is a uint64 bigint, cookieverf 8 bytes. */
  readdirplus(
    xid: number,
    cred: AuthSys | null,
    dir: Buffer,
    cookie: bigint,
    cookieverf: Buffer,
    dircount: number,
    maxcount: number,
  ): Buffer {
    const a = this.#begin(xid, cred)
    this.#fh(a, A_FH1_LEN, this.#fh1, dir)
    if (typeof cookie !== 'bigint' || cookie < 0n || cookie > MAX_U64) badInt('cookie', cookie)
    this.#u64[(a + A_COOKIE_U64) >>> 1] = cookie
    this.#verf8(cookieverf, 'cookieverf3')
    this.#u32[a + A_U0] = u32(dircount, 'dircount')
    this.#u32[a + A_U1] = u32(maxcount, 'maxcount')
    return this.#encode(OP_NFS + NFSPROC3_READDIRPLUS)
  }

  /** RFC 1813 §3.3.18 */
  fsstat(xid: number, cred: AuthSys | null, fh: Buffer): Buffer {
    return this.#fhOnly(xid, cred, fh, NFSPROC3_FSSTAT)
  }

  /** RFC 1813 §3.3.19 */
  fsinfo(xid: number, cred: AuthSys | null, fh: Buffer): Buffer {
    return this.#fhOnly(xid, cred, fh, NFSPROC3_FSINFO)
  }

  /** RFC 1813 §3.3.20 */
  pathconf(xid: number, cred: AuthSys | null, fh: Buffer): Buffer {
    return this.#fhOnly(xid, cred, fh, NFSPROC3_PATHCONF)
  }

  /** RFC 1813 §3.3.21 */
  commit(xid: number, cred: AuthSys | null, fh: Buffer, offset: number, count: number): Buffer {
    return this.#offCount(xid, cred, fh, offset, count, NFSPROC3_COMMIT)
  }

  #fhOnly(xid: number, cred: AuthSys | null, fh: Buffer, proc: number): Buffer {
    const a = this.#begin(xid, cred)
    this.#fh(a, A_FH1_LEN, this.#fh1, fh)
    return this.#encode(OP_NFS + proc)
  }

  #dirop(xid: number, cred: AuthSys | null, dir: Buffer, name: string, proc: number): Buffer {
    const a = this.#begin(xid, cred)
    this.#fh(a, A_FH1_LEN, this.#fh1, dir)
    this.#name(a, A_NAME1_LEN, this.#name1, name)
    return this.#encode(OP_NFS + proc)
  }

  #offCount(xid: number, cred: AuthSys | null, fh: Buffer, offset: number, count: number, proc: number): Buffer {
    const a = this.#begin(xid, cred)
    this.#fh(a, A_FH1_LEN, this.#fh1, fh)
    this.#f64[(a + A_OFFSET) >>> 1] = u53(offset, 'offset')
    this.#u32[a + A_U0] = u32(count, 'count')
    return this.#encode(OP_NFS + proc)
  }

  // ---------------------------------------------------------------------------------------------
  // Replies

  /**
   * Copies msg (or its first `limit` bytes) into IN, runs decode() once, and returns the RPC-level
   * outcome; procedure results are then read from RES by the caller. Throws XdrDecodeError.
   */
  #run(op: number, msg: Buffer, map: InboundMap | null, limit: number): ReplyStatus {
    const total = msg.length
    if (total > this.#inSize) {
      throw new XdrDecodeError('too-large', `${total} bytes, the limit is ${this.#inSize}`)
    }
    this.#views()
    const avail = total < limit ? total : limit
    if (avail === total) this.#u8.set(msg, this.#in)
    else msg.copy(this.#u8, this.#in, 0, avail)
    const st =
      map === null
        ? this.#ex.decode(op, total, avail, 0, 0, 0, 0, 0)
        : this.#ex.decode(op, total, avail, 1, map.serverUid, map.serverGid, map.localUid, map.localGid)
    if (st < 0) throw new XdrDecodeError(DECODE_REASONS[st] ?? 'internal')
    const w = this.#u32
    const r = this.#res >>> 2
    switch (w[r + R_KIND]) {
      case 0:
        return SUCCESS
      case 1:
        return PROG_UNAVAIL
      case 2:
        return { kind: 'prog_mismatch', low: w[r + R_LOW] as number, high: w[r + R_HIGH] as number }
      case 3:
        return PROC_UNAVAIL
      case 4:
        return GARBAGE_ARGS
      case 5:
        return SYSTEM_ERR
      case 6:
        return { kind: 'rpc_mismatch', low: w[r + R_LOW] as number, high: w[r + R_HIGH] as number }
      default:
        return { kind: 'auth_error', authStat: w[r + R_LOW] as number }
    }
  }

  /** Word `i` of RES. */
  #w(i: number): number {
    return this.#u32[(this.#res >>> 2) + i] as number
  }

  /** fattr3 from the slot starting at absolute word index `at` (RES or ENT). */
  #fattrAt(at: number): Fattr3 {
    const w = this.#u32
    const f = this.#f64
    // size, used, fsid as f64, fileid as the raw u64 (see assembly/layout.ts FA_*): one 8-byte index.
    const d = (at + FA_SIZE_F64) >>> 1
    return {
      type: w[at] as number,
      mode: w[at + 1] as number,
      nlink: w[at + 2] as number,
      uid: w[at + 3] as number,
      gid: w[at + 4] as number,
      size: f[d] as number,
      used: f[d + 1] as number,
      rdevMajor: w[at + 5] as number,
      rdevMinor: w[at + 6] as number,
      fsid: f[d + 2] as number,
      fileid: this.#u64[d + 3] as bigint,
      atime: { seconds: w[at + 7] as number, nseconds: w[at + 8] as number },
      mtime: { seconds: w[at + 9] as number, nseconds: w[at + 10] as number },
      ctime: { seconds: w[at + 11] as number, nseconds: w[at + 12] as number },
    }
  }

  #fattr(slot: number): Fattr3 {
    return this.#fattrAt((this.#res >>> 2) + slot)
  }

  /** A copy of msg[off, off + len) the caller owns. */
  #copy(msg: Buffer, off: number, len: number): Buffer {
    const b = Buffer.allocUnsafe(len)
    msg.copy(b, 0, off, off + len)
    return b
  }

  /** Any NULL procedure, MOUNTPROC3_UMNT: results are void. */
  decodeVoid(msg: Buffer): Decoded<void> {
    const reply = this.#run(OP_NULL, msg, null, Infinity)
    return reply === SUCCESS ? { reply, res: undefined } : { reply }
  }

  /** RFC 1833 §3 GETPORT: the port, 0 when the program is not registered. */
  decodeGetport(msg: Buffer): Decoded<number> {
    const reply = this.#run(OP_GETPORT, msg, null, Infinity)
    if (reply !== SUCCESS) return { reply }
    return { reply, res: this.#w(R_U0) }
  }

  /** RFC 1813 §5.2.1 mountres3; status is mountstat3. */
  decodeMnt(msg: Buffer): Decoded<MntRes> {
    const reply = this.#run(OP_MNT, msg, null, Infinity)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    if (status !== 0) return { reply, res: { status } }
    const n = this.#w(R_COUNT)
    const authFlavors: number[] = []
    for (let i = 0; i < n; i++) authFlavors.push(this.#w(R_FLAVORS + i))
    return { reply, res: { status, fh: this.#copy(msg, this.#w(R_FH_OFF), this.#w(R_FH_LEN)), authFlavors } }
  }

  /** RFC 1813 §3.3.1 */
  decodeGetattr(msg: Buffer, map: InboundMap | null): Decoded<GetattrRes> {
    const reply = this.#run(OP_NFS + NFSPROC3_GETATTR, msg, map, Infinity)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    if (status !== 0) return { reply, res: { status } }
    return { reply, res: { status, attr: this.#fattr(R_ATTR_A) } }
  }

  /** RFC 1813 §3.3.2: after = wcc_data.after. */
  decodeSetattr(msg: Buffer, map: InboundMap | null): Decoded<SetattrRes> {
    const reply = this.#run(OP_NFS + NFSPROC3_SETATTR, msg, map, Infinity)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    const res: SetattrRes = { status }
    if (status === 0 && (this.#w(R_FLAGS) & FL_ATTR_A) !== 0) res.after = this.#fattr(R_ATTR_A)
    return { reply, res }
  }

  /** RFC 1813 §3.3.3 */
  decodeLookup(msg: Buffer, map: InboundMap | null): Decoded<LookupRes> {
    const reply = this.#run(OP_NFS + NFSPROC3_LOOKUP, msg, map, Infinity)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    if (status !== 0) return { reply, res: { status } }
    const flags = this.#w(R_FLAGS)
    const res: LookupRes = { status, fh: this.#copy(msg, this.#w(R_FH_OFF), this.#w(R_FH_LEN)) }
    if ((flags & FL_ATTR_A) !== 0) res.attr = this.#fattr(R_ATTR_A)
    if ((flags & FL_ATTR_B) !== 0) res.dirAttr = this.#fattr(R_ATTR_B)
    return { reply, res }
  }

  /** RFC 1813 §3.3.4 */
  decodeAccess(msg: Buffer, map: InboundMap | null): Decoded<AccessRes> {
    const reply = this.#run(OP_NFS + NFSPROC3_ACCESS, msg, map, Infinity)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    if (status !== 0) return { reply, res: { status } }
    const res: AccessRes = { status }
    if ((this.#w(R_FLAGS) & FL_ATTR_A) !== 0) res.attr = this.#fattr(R_ATTR_A)
    res.access = this.#w(R_U0)
    return { reply, res }
  }

  /** RFC 1813 §3.3.5: target is the raw nfspath3 bytes (a copy). */
  decodeReadlink(msg: Buffer, map: InboundMap | null): Decoded<ReadlinkRes> {
    const reply = this.#run(OP_NFS + NFSPROC3_READLINK, msg, map, Infinity)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    if (status !== 0) return { reply, res: { status } }
    const res: ReadlinkRes = { status }
    if ((this.#w(R_FLAGS) & FL_ATTR_A) !== 0) res.attr = this.#fattr(R_ATTR_A)
    res.target = this.#copy(msg, this.#w(R_DATA_OFF), this.#w(R_DATA_LEN))
    return { reply, res }
  }

  /**
   * RFC 1813 §3.3.6. data is a subarray of msg (zero copy) whose length is the data<> length, which may
   * differ from count (both reported; trust data.length). Only the headers are copied into WASM.
   */
  decodeRead(msg: Buffer, map: InboundMap | null): Decoded<ReadRes> {
    const reply = this.#run(OP_NFS + NFSPROC3_READ, msg, map, READ_HEADER_COPY)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    if (status !== 0) return { reply, res: { status } }
    const flags = this.#w(R_FLAGS)
    const off = this.#w(R_DATA_OFF)
    const res: ReadRes = { status }
    if ((flags & FL_ATTR_A) !== 0) res.attr = this.#fattr(R_ATTR_A)
    res.count = this.#w(R_U0)
    res.eof = (flags & FL_EOF) !== 0
    res.data = msg.subarray(off, off + this.#w(R_DATA_LEN))
    return { reply, res }
  }

  /** RFC 1813 §3.3.7: verf is the writeverf3 read as one big-endian uint64. */
  decodeWrite(msg: Buffer, map: InboundMap | null): Decoded<WriteRes> {
    const reply = this.#run(OP_NFS + NFSPROC3_WRITE, msg, map, Infinity)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    if (status !== 0) return { reply, res: { status } }
    const res: WriteRes = { status }
    if ((this.#w(R_FLAGS) & FL_ATTR_A) !== 0) res.after = this.#fattr(R_ATTR_A)
    res.count = this.#w(R_U0)
    res.committed = this.#w(R_U0 + 1)
    res.verf = this.#u64[((this.#res >>> 2) + R_F0) >>> 1] as bigint
    return { reply, res }
  }

  /** RFC 1813 §3.3.8-§3.3.11 (CREATE, MKDIR, SYMLINK, MKNOD share diropres3). */
  decodeCreate(msg: Buffer, map: InboundMap | null): Decoded<CreateRes> {
    // The four results are the same union; CREATE's selector decodes all of them.
    const reply = this.#run(OP_NFS + NFSPROC3_CREATE, msg, map, Infinity)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    if (status !== 0) return { reply, res: { status } }
    const flags = this.#w(R_FLAGS)
    const res: CreateRes = { status }
    if ((flags & FL_FH) !== 0) res.fh = this.#copy(msg, this.#w(R_FH_OFF), this.#w(R_FH_LEN))
    if ((flags & FL_ATTR_A) !== 0) res.attr = this.#fattr(R_ATTR_A)
    if ((flags & FL_ATTR_B) !== 0) res.dirAfter = this.#fattr(R_ATTR_B)
    return { reply, res }
  }

  /** RFC 1813 §3.3.12 / §3.3.13 (REMOVE and RMDIR share wccstat3). */
  decodeRemove(msg: Buffer, map: InboundMap | null): Decoded<RemoveRes> {
    const reply = this.#run(OP_NFS + NFSPROC3_REMOVE, msg, map, Infinity)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    const res: RemoveRes = { status }
    if (status === 0 && (this.#w(R_FLAGS) & FL_ATTR_A) !== 0) res.dirAfter = this.#fattr(R_ATTR_A)
    return { reply, res }
  }

  /** RFC 1813 §3.3.14: both wcc_data are validated, not exposed. */
  decodeRename(msg: Buffer, map: InboundMap | null): Decoded<RenameRes> {
    const reply = this.#run(OP_NFS + NFSPROC3_RENAME, msg, map, Infinity)
    if (reply !== SUCCESS) return { reply }
    return { reply, res: { status: this.#w(R_STATUS) } }
  }

  /** RFC 1813 §3.3.15: attr is the file's post_op_attr. */
  decodeLink(msg: Buffer, map: InboundMap | null): Decoded<LinkRes> {
    const reply = this.#run(OP_NFS + NFSPROC3_LINK, msg, map, Infinity)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    const res: LinkRes = { status }
    if (status === 0 && (this.#w(R_FLAGS) & FL_ATTR_A) !== 0) res.attr = this.#fattr(R_ATTR_A)
    return { reply, res }
  }

  /**
   * RFC 1813 §3.3.17. Entries in wire order; names decoded as UTF-8, fileids and cookies exact bigints, each entry's
   * attributes rewritten by the inbound map. Loop detection (a cookie that does not advance) is the
   * caller's: the codec reports what the server sent.
   */
  decodeReaddirplus(msg: Buffer, map: InboundMap | null): Decoded<ReaddirplusRes> {
    const reply = this.#run(OP_NFS + NFSPROC3_READDIRPLUS, msg, map, Infinity)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    if (status !== 0) return { reply, res: { status } }
    const flags = this.#w(R_FLAGS)
    const res: ReaddirplusRes = { status }
    if ((flags & FL_ATTR_A) !== 0) res.dirAttr = this.#fattr(R_ATTR_A)
    res.cookieverf = this.#copy(msg, this.#w(R_DATA_OFF), 8)
    const n = this.#w(R_COUNT)
    const w = this.#u32
    const entries: Entryplus3[] = new Array<Entryplus3>(n)
    let e = this.#ent >>> 2
    for (let i = 0; i < n; i++, e += this.#entStrideW) {
      const ef = w[e + E_FLAGS] as number
      const nameOff = w[e + E_NAME_OFF] as number
      const entry: Entryplus3 = {
        fileid: this.#u64[(e + E_FILEID_U64) >>> 1] as bigint,
        name: msg.toString('utf8', nameOff, nameOff + (w[e + E_NAME_LEN] as number)),
        cookie: this.#u64[(e + E_COOKIE_U64) >>> 1] as bigint,
      }
      if ((ef & FL_ATTR_A) !== 0) entry.attr = this.#fattrAt(e + E_ATTR)
      if ((ef & FL_FH) !== 0) entry.fh = this.#copy(msg, w[e + E_FH_OFF] as number, w[e + E_FH_LEN] as number)
      entries[i] = entry
    }
    res.entries = entries
    res.eof = (flags & FL_EOF) !== 0
    return { reply, res }
  }

  /** RFC 1813 §3.3.18: byte and file counts above 2^53 are clamped to Number.MAX_SAFE_INTEGER. */
  decodeFsstat(msg: Buffer, map: InboundMap | null): Decoded<FsstatRes> {
    const reply = this.#run(OP_NFS + NFSPROC3_FSSTAT, msg, map, Infinity)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    if (status !== 0) return { reply, res: { status } }
    const res: FsstatRes = { status }
    if ((this.#w(R_FLAGS) & FL_ATTR_A) !== 0) res.attr = this.#fattr(R_ATTR_A)
    const f = this.#f64
    const d = ((this.#res >>> 2) + R_F0) >>> 1
    res.tbytes = f[d] as number
    res.fbytes = f[d + 1] as number
    res.abytes = f[d + 2] as number
    res.tfiles = f[d + 3] as number
    res.ffiles = f[d + 4] as number
    res.afiles = f[d + 5] as number
    res.invarsec = this.#w(R_U0)
    return { reply, res }
  }

  /** RFC 1813 §3.3.19: maxfilesize above 2^53 is clamped to Number.MAX_SAFE_INTEGER. */
  decodeFsinfo(msg: Buffer, map: InboundMap | null): Decoded<FsinfoRes> {
    const reply = this.#run(OP_NFS + NFSPROC3_FSINFO, msg, map, Infinity)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    if (status !== 0) return { reply, res: { status } }
    const res: FsinfoRes = { status }
    if ((this.#w(R_FLAGS) & FL_ATTR_A) !== 0) res.attr = this.#fattr(R_ATTR_A)
    res.rtmax = this.#w(R_U0)
    res.rtpref = this.#w(R_U0 + 1)
    res.rtmult = this.#w(R_U0 + 2)
    res.wtmax = this.#w(R_U0 + 3)
    res.wtpref = this.#w(R_U0 + 4)
    res.wtmult = this.#w(R_U0 + 5)
    res.dtpref = this.#w(R_U0 + 6)
    res.maxfilesize = this.#f64[((this.#res >>> 2) + R_F0) >>> 1] as number
    res.timeDelta = { seconds: this.#w(R_U0 + 7), nseconds: this.#w(R_U0 + 8) }
    res.properties = this.#w(R_U0 + 9)
    return { reply, res }
  }

  /** RFC 1813 §3.3.20 */
  decodePathconf(msg: Buffer, map: InboundMap | null): Decoded<PathconfRes> {
    const reply = this.#run(OP_NFS + NFSPROC3_PATHCONF, msg, map, Infinity)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    if (status !== 0) return { reply, res: { status } }
    const flags = this.#w(R_FLAGS)
    const res: PathconfRes = { status }
    if ((flags & FL_ATTR_A) !== 0) res.attr = this.#fattr(R_ATTR_A)
    res.linkmax = this.#w(R_U0)
    res.nameMax = this.#w(R_U0 + 1)
    res.noTrunc = (flags & FL_BOOL0) !== 0
    res.chownRestricted = (flags & (FL_BOOL0 << 1)) !== 0
    res.caseInsensitive = (flags & (FL_BOOL0 << 2)) !== 0
    res.casePreserving = (flags & (FL_BOOL0 << 3)) !== 0
    return { reply, res }
  }

  /** RFC 1813 §3.3.21: verf compared with WRITE's verf (§3.3.7) to detect a server restart. */
  decodeCommit(msg: Buffer, map: InboundMap | null): Decoded<CommitRes> {
    const reply = this.#run(OP_NFS + NFSPROC3_COMMIT, msg, map, Infinity)
    if (reply !== SUCCESS) return { reply }
    const status = this.#w(R_STATUS)
    if (status !== 0) return { reply, res: { status } }
    return { reply, res: { status, verf: this.#u64[((this.#res >>> 2) + R_F0) >>> 1] as bigint } }
  }
}

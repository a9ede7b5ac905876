// Shared helpers for the xdr tests: a seeded PRNG, random protocol values, and conversions between
// @jsonjoy.com/json-pack's NFSv3 structures and the shapes of src/xdr/types.ts. Not a test file
// (uvu only runs *.test.ts).

import { Reader } from '@jsonjoy.com/buffers/lib/Reader.js'
import { RpcMessageEncoder } from '@jsonjoy.com/json-pack/lib/rpc/RpcMessageEncoder.js'
import { RpcOpaqueAuth } from '@jsonjoy.com/json-pack/lib/rpc/messages.js'
import * as S from '@jsonjoy.com/json-pack/lib/nfs/v3/structs.js'
import type { AuthSys, Fattr3, InboundMap, NfsTime3, Sattr3 } from '../../../src/xdr/types.js'

export { Reader }

/** sfc32: small, fast, good enough to spread test inputs; the seed makes every failure reproducible. */
export class Rng {
  #a: number
  #b: number
  #c: number
  #d: number

  constructor(seed: number) {
    this.#a = 0x9e3779b9
    this.#b = 0x243f6a88
    this.#c = 0xb7e15162
    this.#d = seed >>> 0
    for (let i = 0; i < 16; i++) this.u32()
  }

  u32(): number {
    const a = this.#a, b = this.#b, c = this.#c, d = this.#d
    const t = (((a + b) | 0) + d) | 0
    this.#d = (d + 1) | 0
    this.#a = b ^ (b >>> 9)
    this.#b = (c + (c << 3)) | 0
    const r = (c << 21) | (c >>> 11)
    this.#c = (r + t) | 0
    return t >>> 0
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 2 ** 32) * n)
  }

  bool(p = 0.5): boolean {
    return this.u32() / 2 ** 32 < p
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n)
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff
    return b
  }

  /** A u32 biased towards the edges (0, 1, 2^31, 2^32 - 1) where encoders go wrong. */
  edgeU32(): number {
    return this.bool(0.3) ? this.pick([0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]) : this.u32()
  }

  /** A uint64 biased towards 2^32 and 2^53 boundaries and the maximum. */
  u64(): bigint {
    if (this.bool(0.3)) {
      return this.pick([0n, 1n, 0xffffffffn, 0x100000000n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, (1n << 64n) - 1n])
    }
    const hi = BigInt(this.bool(0.5) ? this.u32() : this.int(1 << 21))
    return (hi << 32n) | BigInt(this.u32())
  }

  /** A string of up to maxChars characters mixing 1-, 2-, 3- and 4-byte UTF-8 sequences. */
  name(maxChars = 40): string {
    const n = this.int(maxChars + 1)
    let s = ''
    for (let i = 0; i < n; i++) {
      const k = this.int(10)
      if (k < 6) s += String.fromCharCode(0x20 + this.int(0x5f))
      else if (k < 8) s += String.fromCharCode(0xa0 + this.int(0x700))
      else if (k < 9) s += String.fromCharCode(0x4e00 + this.int(0x1000))
      else s += String.fromCodePoint(0x1f600 + this.int(0x40))
    }
    return s
  }

  fh(): Buffer {
    return this.bytes(this.int(65))
  }

  time(): NfsTime3 {
    return { seconds: this.edgeU32(), nseconds: this.int(1_000_000_000) }
  }

  cred(): AuthSys | null {
    if (this.bool(0.2)) return null
    const gids: number[] = []
    const n = this.int(17)
    for (let i = 0; i < n; i++) gids.push(this.edgeU32())
    const machine = this.bool(0.1) ? 'm'.repeat(255) : this.name(20)
    return { stamp: this.u32(), machine: Buffer.byteLength(machine) > 255 ? 'host' : machine, uid: this.edgeU32(), gid: this.edgeU32(), gids }
  }

  /** A uid/gid from a small pool so that random maps hit often. */
  id(): number {
    return this.pick([0, 100, 1000, 1001, 65534, 4294967294, this.u32()])
  }

  map(): InboundMap | null {
    if (this.bool(0.25)) return null
    return { serverUid: this.id(), serverGid: this.id(), localUid: this.id(), localGid: this.id() }
  }

  sattr(): Sattr3 {
    const s: Sattr3 = {}
    if (this.bool()) s.mode = this.int(0o10000)
    if (this.bool()) s.uid = this.edgeU32()
    if (this.bool()) s.gid = this.edgeU32()
    if (this.bool()) s.size = this.bool(0.3) ? this.pick([0, 2 ** 32, 2 ** 53 - 1, 2 ** 53]) : this.int(2 ** 40)
    const at = this.int(3)
    if (at === 1) s.atime = 'server'
    else if (at === 2) s.atime = this.time()
    const mt = this.int(3)
    if (mt === 1) s.mtime = 'server'
    else if (mt === 2) s.mtime = this.time()
    return s
  }
}

// ------------------------------------------------------------------------------------------------
// json-pack <-> ours

/** Plain, comparable form of json-pack values and ours: bigints tagged, bytes as hex, undefined dropped. */
export function plain(x: unknown): unknown {
  if (typeof x === 'bigint') return `${x}n`
  if (x instanceof Reader) return Buffer.from(x.uint8.subarray(x.x, x.end)).toString('hex')
  if (x instanceof Uint8Array) return Buffer.from(x.buffer, x.byteOffset, x.length).toString('hex')
  if (Array.isArray(x)) return x.map(plain)
  if (x !== null && typeof x === 'object') {
    const o: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(x)) if (v !== undefined) o[k] = plain(v)
    return o
  }
  return x
}

export function theirTime(t: NfsTime3): S.Nfsv3Time {
  return new S.Nfsv3Time(t.seconds, t.nseconds)
}

/** Our Sattr3 as json-pack's sattr3 (what their decoder must read back from our call). */
export function theirSattr(s: Sattr3): S.Nfsv3Sattr {
  const how = (t: NfsTime3 | 'server' | undefined): number => (t === undefined ? 0 : t === 'server' ? 1 : 2)
  const tm = (t: NfsTime3 | 'server' | undefined): S.Nfsv3Time | undefined =>
    t === undefined || t === 'server' ? undefined : theirTime(t)
  return new S.Nfsv3Sattr(
    new S.Nfsv3SetMode(s.mode !== undefined, s.mode),
    new S.Nfsv3SetUid(s.uid !== undefined, s.uid),
    new S.Nfsv3SetGid(s.gid !== undefined, s.gid),
    new S.Nfsv3SetSize(s.size !== undefined, s.size === undefined ? undefined : BigInt(s.size)),
    new S.Nfsv3SetAtime(how(s.atime) as 0, tm(s.atime)),
    new S.Nfsv3SetMtime(how(s.mtime) as 0, tm(s.mtime)),
  )
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** size3 as the codec reports it: exact below 2^53, clamped above. */
export function clamp(v: bigint): number {
  return Number(v > MAX_SAFE ? MAX_SAFE : v)
}

/** A random json-pack fattr3 with ids from the small pool. */
export function randomFattr(r: Rng): S.Nfsv3Fattr {
  return new S.Nfsv3Fattr(
    (1 + r.int(7)) as 1,
    r.int(0o200000),
    r.edgeU32(),
    r.id(),
    r.id(),
    r.u64(),
    r.u64(),
    new S.Nfsv3SpecData(r.edgeU32(), r.edgeU32()),
    r.u64(),
    r.u64(),
    theirTime(r.time()),
    theirTime(r.time()),
    theirTime(r.time()),
  )
}

/** What the codec must return for a json-pack fattr3 under an inbound map. */
export function expectFattr(f: S.Nfsv3Fattr, map: InboundMap | null): Fattr3 {
  let uid = f.uid
  let gid = f.gid
  if (map !== null) {
    if (uid === map.serverUid) uid = map.localUid
    if (gid === map.serverGid) gid = map.localGid
  }
  return {
    type: f.type,
    mode: f.mode,
    nlink: f.nlink,
    uid,
    gid,
    size: clamp(f.size),
    used: clamp(f.used),
    rdevMajor: f.rdev.specdata1,
    rdevMinor: f.rdev.specdata2,
    fsid: Number(f.fsid),
    fileid: f.fileid,
    atime: { seconds: f.atime.seconds, nseconds: f.atime.nseconds },
    mtime: { seconds: f.mtime.seconds, nseconds: f.mtime.nseconds },
    ctime: { seconds: f.ctime.seconds, nseconds: f.ctime.nseconds },
  }
}

/** A post_op_attr and the Fattr3 it must decode to (undefined when no attributes follow). */
export function randomPostOp(r: Rng, map: InboundMap | null): [S.Nfsv3PostOpAttr, Fattr3 | undefined] {
  if (r.bool(0.25)) return [new S.Nfsv3PostOpAttr(false), undefined]
  const f = randomFattr(r)
  return [new S.Nfsv3PostOpAttr(true, f), expectFattr(f, map)]
}

/** A wcc_data and the after-attributes it must decode to. */
export function randomWcc(r: Rng, map: InboundMap | null): [S.Nfsv3WccData, Fattr3 | undefined] {
  const before = r.bool(0.3)
    ? new S.Nfsv3PreOpAttr(false)
    : new S.Nfsv3PreOpAttr(true, new S.Nfsv3WccAttr(r.u64(), theirTime(r.time()), theirTime(r.time())))
  const [after, expected] = randomPostOp(r, map)
  return [new S.Nfsv3WccData(before, after), expected]
}

/** A random verifier body of 0..400 bytes (replies may carry one; it must be skipped). */
export function randomVerf(r: Rng): RpcOpaqueAuth {
  const n = r.bool(0.5) ? 0 : r.bool(0.9) ? r.int(33) : r.int(401)
  return new RpcOpaqueAuth(r.pick([0, 1, 6]) as 0, new Reader(new Uint8Array(r.bytes(n))))
}

const rpcEncoder = new RpcMessageEncoder()

/** An accepted SUCCESS reply message (no record mark) carrying `results`, built by json-pack. */
export function acceptedReply(xid: number, verf: RpcOpaqueAuth, results: Uint8Array): Buffer {
  return Buffer.from(rpcEncoder.encodeAcceptedReply(xid, verf, 0, undefined, results))
}

/** Copies a json-pack encoder output (it reuses its buffer). */
export function own(u: Uint8Array): Uint8Array {
  return new Uint8Array(u)
}

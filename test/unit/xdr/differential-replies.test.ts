// Differential test of the reply decoders against @jsonjoy.com/json-pack: for a few hundred seeded
// random results per procedure (success and failure arms, random verifier bodies, random inbound
// maps), json-pack's RPC/NFSv3/MOUNT encoders build the reply and our codec must decode it to the same
// values, with every fattr3 passed through the map.
// json-pack has no portmapper codec: GETPORT results (one u32) are put after json-pack's RPC reply
// header by hand, and the GETPORT reply is also pinned by a hand vector in test/vectors/portmap.ts.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RpcMessageEncoder } from '@jsonjoy.com/json-pack/lib/rpc/RpcMessageEncoder.js'
import { Nfsv3Encoder } from '@jsonjoy.com/json-pack/lib/nfs/v3/Nfsv3Encoder.js'
import * as M from '@jsonjoy.com/json-pack/lib/nfs/v3/messages.js'
import * as S from '@jsonjoy.com/json-pack/lib/nfs/v3/structs.js'
import { MountEncoder } from '@jsonjoy.com/json-pack/lib/nfs/v3/mount/MountEncoder.js'
import { MountMntResOk, MountMntResponse } from '@jsonjoy.com/json-pack/lib/nfs/v3/mount/messages.js'
import { MountFhandle3 } from '@jsonjoy.com/json-pack/lib/nfs/v3/mount/structs.js'
import { XdrCodec } from '../../../src/xdr/index.js'
import type { Entryplus3, InboundMap } from '../../../src/xdr/types.js'
import type { DecodeMethod } from '../../vectors/wire.js'
import { decodeWith } from '../../vectors/wire.js'
import {
  Reader,
  Rng,
  acceptedReply,
  clamp,
  expectFattr,
  own,
  plain,
  randomFattr,
  randomPostOp,
  randomVerf,
  randomWcc,
  theirTime,
} from './helpers.js'

const CASES = 300
const codec = XdrCodec.load()
const rpcEnc = new RpcMessageEncoder()

const ERRORS = [1, 2, 5, 13, 17, 20, 21, 22, 28, 30, 63, 66, 70, 10001, 10003, 10004, 10008]

function status(r: Rng): number {
  return r.bool(0.7) ? 0 : r.pick(ERRORS)
}

function verf8(r: Rng): [Uint8Array, bigint] {
  const b = r.bytes(8)
  return [new Uint8Array(b), b.readBigUInt64BE(0)]
}

/**
 * Runs CASES random replies of one procedure: gen returns json-pack's response object and the `res`
 * our codec must produce for it under `map`.
 */
function replyCase(
  name: string,
  proc: number,
  method: DecodeMethod,
  seed: number,
  gen: (r: Rng, map: InboundMap | null) => [unknown, unknown],
): void {
  test(`${name} reply (${method})`, () => {
    const r = new Rng(seed)
    for (let i = 0; i < CASES; i++) {
      const map = r.map()
      const [resp, expected] = gen(r, map)
      // A fresh encoder per message: json-pack 18.28's XdrEncoder.writeStr writes the string length at
      // an offset saved before the writer grows, which is stale once an earlier message was flushed
      // (Writer.grow compacts to x0 = 0). A fresh writer starts at x0 = 0, where the bug cannot bite.
      const results = own(new Nfsv3Encoder().encodeMessage(resp as M.Nfsv3Response, proc as 1, false))
      const msg = acceptedReply(r.u32(), randomVerf(r), results)
      const got = decodeWith(codec, method, msg, map)
      assert.equal(plain(got), plain({ reply: { kind: 'success' }, res: expected }), `case ${i}`)
    }
  })
}

replyCase('GETATTR', 1, 'decodeGetattr', 101, (r, map) => {
  const st = status(r)
  if (st !== 0) return [new M.Nfsv3GetattrResponse(st), { status: st }]
  const f = randomFattr(r)
  return [new M.Nfsv3GetattrResponse(0, new M.Nfsv3GetattrResOk(f)), { status: 0, attr: expectFattr(f, map) }]
})

replyCase('SETATTR', 2, 'decodeSetattr', 102, (r, map) => {
  const st = status(r)
  const [wcc, after] = randomWcc(r, map)
  if (st !== 0) return [new M.Nfsv3SetattrResponse(st, undefined, new M.Nfsv3SetattrResFail(wcc)), { status: st }]
  return [new M.Nfsv3SetattrResponse(0, new M.Nfsv3SetattrResOk(wcc)), { status: 0, after }]
})

replyCase('LOOKUP', 3, 'decodeLookup', 103, (r, map) => {
  const st = status(r)
  const [dirPost, dirAttr] = randomPostOp(r, map)
  if (st !== 0) return [new M.Nfsv3LookupResponse(st, undefined, new M.Nfsv3LookupResFail(dirPost)), { status: st }]
  const fh = r.fh()
  const [objPost, attr] = randomPostOp(r, map)
  return [
    new M.Nfsv3LookupResponse(0, new M.Nfsv3LookupResOk(new S.Nfsv3Fh(fh), objPost, dirPost)),
    { status: 0, fh, attr, dirAttr },
  ]
})

replyCase('ACCESS', 4, 'decodeAccess', 104, (r, map) => {
  const st = status(r)
  const [post, attr] = randomPostOp(r, map)
  if (st !== 0) return [new M.Nfsv3AccessResponse(st, undefined, new M.Nfsv3AccessResFail(post)), { status: st }]
  const access = r.int(64)
  return [new M.Nfsv3AccessResponse(0, new M.Nfsv3AccessResOk(post, access)), { status: 0, attr, access }]
})

replyCase('READLINK', 5, 'decodeReadlink', 105, (r, map) => {
  const st = status(r)
  const [post, attr] = randomPostOp(r, map)
  if (st !== 0) return [new M.Nfsv3ReadlinkResponse(st, undefined, new M.Nfsv3ReadlinkResFail(post)), { status: st }]
  const target = r.bool(0.05) ? 't'.repeat(4096) : r.name(100)
  return [
    new M.Nfsv3ReadlinkResponse(0, new M.Nfsv3ReadlinkResOk(post, target)),
    { status: 0, attr, target: Buffer.from(target, 'utf8') },
  ]
})

replyCase('READ', 6, 'decodeRead', 106, (r, map) => {
  const st = status(r)
  const [post, attr] = randomPostOp(r, map)
  if (st !== 0) return [new M.Nfsv3ReadResponse(st, undefined, new M.Nfsv3ReadResFail(post)), { status: st }]
  const data = r.bytes(r.bool(0.05) ? 65536 + r.int(4) : r.int(300))
  const count = r.bool(0.8) ? data.length : r.edgeU32()
  const eof = r.bool()
  return [
    new M.Nfsv3ReadResponse(0, new M.Nfsv3ReadResOk(post, count, eof, new Uint8Array(data))),
    { status: 0, attr, count, eof, data },
  ]
})

replyCase('WRITE', 7, 'decodeWrite', 107, (r, map) => {
  const st = status(r)
  const [wcc, after] = randomWcc(r, map)
  if (st !== 0) return [new M.Nfsv3WriteResponse(st, undefined, new M.Nfsv3WriteResFail(wcc)), { status: st }]
  const count = r.edgeU32()
  const committed = r.int(3)
  const [vb, verf] = verf8(r)
  return [new M.Nfsv3WriteResponse(0, new M.Nfsv3WriteResOk(wcc, count, committed, vb)), { status: 0, after, count, committed, verf }]
})

// CREATE, MKDIR, SYMLINK and MKNOD share one result union (RFC 1813 §3.3.8-§3.3.11) and decodeCreate.
const DIROP_RESULTS = [
  [8, 'CREATE', M.Nfsv3CreateResponse, M.Nfsv3CreateResOk, M.Nfsv3CreateResFail],
  [9, 'MKDIR', M.Nfsv3MkdirResponse, M.Nfsv3MkdirResOk, M.Nfsv3MkdirResFail],
  [10, 'SYMLINK', M.Nfsv3SymlinkResponse, M.Nfsv3SymlinkResOk, M.Nfsv3SymlinkResFail],
  [11, 'MKNOD', M.Nfsv3MknodResponse, M.Nfsv3MknodResOk, M.Nfsv3MknodResFail],
] as const

for (const [proc, name, Res, Ok, Fail] of DIROP_RESULTS) {
  replyCase(name, proc, 'decodeCreate', 100 + proc, (r, map) => {
    const st = status(r)
    const [wcc, dirAfter] = randomWcc(r, map)
    if (st !== 0) return [new Res(st, undefined, new Fail(wcc)), { status: st }]
    const fh = r.bool(0.8) ? r.fh() : undefined
    const [post, attr] = randomPostOp(r, map)
    const pfh = new S.Nfsv3PostOpFh(fh !== undefined, fh && new S.Nfsv3Fh(fh))
    return [new Res(0, new Ok(pfh, post, wcc)), { status: 0, fh, attr, dirAfter }]
  })
}

replyCase('REMOVE', 12, 'decodeRemove', 112, (r, map) => {
  const st = status(r)
  const [wcc, dirAfter] = randomWcc(r, map)
  if (st !== 0) return [new M.Nfsv3RemoveResponse(st, undefined, new M.Nfsv3RemoveResFail(wcc)), { status: st }]
  return [new M.Nfsv3RemoveResponse(0, new M.Nfsv3RemoveResOk(wcc)), { status: 0, dirAfter }]
})

replyCase('RMDIR', 13, 'decodeRemove', 113, (r, map) => {
  const st = status(r)
  const [wcc, dirAfter] = randomWcc(r, map)
  if (st !== 0) return [new M.Nfsv3RmdirResponse(st, undefined, new M.Nfsv3RmdirResFail(wcc)), { status: st }]
  return [new M.Nfsv3RmdirResponse(0, new M.Nfsv3RmdirResOk(wcc)), { status: 0, dirAfter }]
})

replyCase('RENAME', 14, 'decodeRename', 114, (r, map) => {
  const st = status(r)
  const [from] = randomWcc(r, map)
  const [to] = randomWcc(r, map)
  if (st !== 0) return [new M.Nfsv3RenameResponse(st, undefined, new M.Nfsv3RenameResFail(from, to)), { status: st }]
  return [new M.Nfsv3RenameResponse(0, new M.Nfsv3RenameResOk(from, to)), { status: 0 }]
})

replyCase('LINK', 15, 'decodeLink', 115, (r, map) => {
  const st = status(r)
  const [post, attr] = randomPostOp(r, map)
  const [wcc] = randomWcc(r, map)
  if (st !== 0) return [new M.Nfsv3LinkResponse(st, undefined, new M.Nfsv3LinkResFail(post, wcc)), { status: st }]
  return [new M.Nfsv3LinkResponse(0, new M.Nfsv3LinkResOk(post, wcc)), { status: 0, attr }]
})

replyCase('READDIRPLUS', 17, 'decodeReaddirplus', 117, (r, map) => {
  const st = status(r)
  const [dirPost, dirAttr] = randomPostOp(r, map)
  if (st !== 0) return [new M.Nfsv3ReaddirplusResponse(st, undefined, new M.Nfsv3ReaddirplusResFail(dirPost)), { status: st }]
  const cookieverf = r.bytes(8)
  const n = r.bool(0.1) ? 0 : r.int(40)
  const entries: Entryplus3[] = []
  const specs: [bigint, string, bigint, S.Nfsv3PostOpAttr, S.Nfsv3PostOpFh][] = []
  for (let i = 0; i < n; i++) {
    const fileid = r.u64()
    const name = r.bool(0.02) ? 'e'.repeat(4096) : r.name(30)
    const cookie = r.u64()
    const [post, attr] = randomPostOp(r, map)
    const fh = r.bool(0.8) ? r.fh() : undefined
    specs.push([fileid, name, cookie, post, new S.Nfsv3PostOpFh(fh !== undefined, fh && new S.Nfsv3Fh(fh))])
    entries.push({ fileid, name, cookie, attr, fh })
  }
  let list: S.Nfsv3EntryPlus | undefined
  for (let i = specs.length - 1; i >= 0; i--) {
    const [fileid, name, cookie, post, pfh] = specs[i]!
    list = new S.Nfsv3EntryPlus(fileid, name, cookie, post, pfh, list)
  }
  const eof = r.bool()
  return [
    new M.Nfsv3ReaddirplusResponse(0, new M.Nfsv3ReaddirplusResOk(dirPost, cookieverf, new S.Nfsv3DirListPlus(eof, list))),
    { status: 0, dirAttr, cookieverf, entries, eof },
  ]
})

replyCase('FSSTAT', 18, 'decodeFsstat', 118, (r, map) => {
  const st = status(r)
  const [post, attr] = randomPostOp(r, map)
  if (st !== 0) return [new M.Nfsv3FsstatResponse(st, undefined, new M.Nfsv3FsstatResFail(post)), { status: st }]
  const v = [r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u64()] as const
  const invarsec = r.edgeU32()
  return [
    new M.Nfsv3FsstatResponse(0, new M.Nfsv3FsstatResOk(post, ...v, invarsec)),
    {
      status: 0,
      attr,
      tbytes: clamp(v[0]),
      fbytes: clamp(v[1]),
      abytes: clamp(v[2]),
      tfiles: clamp(v[3]),
      ffiles: clamp(v[4]),
      afiles: clamp(v[5]),
      invarsec,
    },
  ]
})

replyCase('FSINFO', 19, 'decodeFsinfo', 119, (r, map) => {
  const st = status(r)
  const [post, attr] = randomPostOp(r, map)
  if (st !== 0) return [new M.Nfsv3FsinfoResponse(st, undefined, new M.Nfsv3FsinfoResFail(post)), { status: st }]
  const u = Array.from({ length: 7 }, () => r.edgeU32())
  const maxfilesize = r.u64()
  const timeDelta = r.time()
  const properties = r.int(32)
  return [
    new M.Nfsv3FsinfoResponse(
      0,
      new M.Nfsv3FsinfoResOk(post, u[0]!, u[1]!, u[2]!, u[3]!, u[4]!, u[5]!, u[6]!, maxfilesize, theirTime(timeDelta), properties),
    ),
    {
      status: 0,
      attr,
      rtmax: u[0],
      rtpref: u[1],
      rtmult: u[2],
      wtmax: u[3],
      wtpref: u[4],
      wtmult: u[5],
      dtpref: u[6],
      maxfilesize: clamp(maxfilesize),
      timeDelta,
      properties,
    },
  ]
})

replyCase('PATHCONF', 20, 'decodePathconf', 120, (r, map) => {
  const st = status(r)
  const [post, attr] = randomPostOp(r, map)
  if (st !== 0) return [new M.Nfsv3PathconfResponse(st, undefined, new M.Nfsv3PathconfResFail(post)), { status: st }]
  const v = { linkmax: r.edgeU32(), nameMax: r.edgeU32(), noTrunc: r.bool(), chownRestricted: r.bool(), caseInsensitive: r.bool(), casePreserving: r.bool() }
  return [
    new M.Nfsv3PathconfResponse(
      0,
      new M.Nfsv3PathconfResOk(post, v.linkmax, v.nameMax, v.noTrunc, v.chownRestricted, v.caseInsensitive, v.casePreserving),
    ),
    { status: 0, attr, ...v },
  ]
})

replyCase('COMMIT', 21, 'decodeCommit', 121, (r, map) => {
  const st = status(r)
  const [wcc] = randomWcc(r, map)
  if (st !== 0) return [new M.Nfsv3CommitResponse(st, undefined, new M.Nfsv3CommitResFail(wcc)), { status: st }]
  const [vb, verf] = verf8(r)
  return [new M.Nfsv3CommitResponse(0, new M.Nfsv3CommitResOk(wcc, vb)), { status: 0, verf }]
})

test('MNT reply (decodeMnt), json-pack MountEncoder', () => {
  const r = new Rng(130)
  for (let i = 0; i < CASES; i++) {
    const enc = new MountEncoder() // fresh per message, see replyCase
    const st = r.bool(0.7) ? 0 : r.pick([1, 2, 5, 13, 20, 22, 63, 10004, 10006])
    let resp: MountMntResponse
    let expected: unknown
    if (st === 0) {
      const fh = r.fh()
      const flavors = Array.from({ length: r.int(65) }, () => r.pick([0, 1, 2, 6, 390003, r.u32()]))
      resp = new MountMntResponse(0, new MountMntResOk(new MountFhandle3(new Reader(new Uint8Array(fh))), flavors))
      expected = { status: 0, fh, authFlavors: flavors }
    } else {
      resp = new MountMntResponse(st as 1)
      expected = { status: st }
    }
    const msg = acceptedReply(r.u32(), randomVerf(r), own(enc.encodeMessage(resp, 1 as never, false)))
    assert.equal(plain(codec.decodeMnt(msg)), plain({ reply: { kind: 'success' }, res: expected }))
  }
})

test('GETPORT reply (decodeGetport): json-pack RPC header + one u32', () => {
  const r = new Rng(131)
  for (let i = 0; i < CASES; i++) {
    const port = r.pick([0, 111, 2049, 65535, r.u32()])
    const res = Buffer.alloc(4)
    res.writeUInt32BE(port >>> 0)
    const msg = acceptedReply(r.u32(), randomVerf(r), new Uint8Array(res))
    assert.equal(codec.decodeGetport(msg), { reply: { kind: 'success' }, res: port >>> 0 })
  }
})

test('RPC-level failures from json-pack: every accept_stat and reject_stat arm', () => {
  const r = new Rng(132)
  const methods: DecodeMethod[] = ['decodeVoid', 'decodeGetport', 'decodeMnt', 'decodeGetattr', 'decodeReaddirplus', 'decodeRead']
  for (let i = 0; i < CASES; i++) {
    const method = r.pick(methods)
    const k = r.int(7)
    let msg: Buffer
    let reply: unknown
    if (k < 5) {
      const stat = k + 1 // PROG_UNAVAIL .. SYSTEM_ERR
      const mismatch = stat === 2 ? { low: r.edgeU32(), high: r.edgeU32() } : undefined
      msg = Buffer.from(rpcEnc.encodeAcceptedReply(r.u32(), randomVerf(r), stat as 1, mismatch))
      reply = [
        { kind: 'prog_unavail' },
        { kind: 'prog_mismatch', ...mismatch },
        { kind: 'proc_unavail' },
        { kind: 'garbage_args' },
        { kind: 'system_err' },
      ][stat - 1]
    } else if (k === 5) {
      const mismatch = { low: r.edgeU32(), high: r.edgeU32() }
      msg = Buffer.from(rpcEnc.encodeRejectedReply(r.u32(), 0, mismatch))
      reply = { kind: 'rpc_mismatch', ...mismatch }
    } else {
      const authStat = r.int(14)
      msg = Buffer.from(rpcEnc.encodeRejectedReply(r.u32(), 1, undefined, authStat as 1))
      reply = { kind: 'auth_error', authStat }
    }
    assert.equal(decodeWith(codec, method, msg), { reply })
  }
})

test.run()

// Inbound identity rewrite: every fattr3 a result carries (plain attributes, post_op_attr, wcc_data
// after-attributes, LOOKUP dir attributes, each READDIRPLUS entry) has uid === serverUid shown as
// localUid and gid === serverGid as localGid; other ids pass unchanged; a null map rewrites nothing.
// Replies are built with json-pack's encoders (one fresh encoder per message, see
// differential-replies.test.ts for why).

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Nfsv3Encoder } from '@jsonjoy.com/json-pack/lib/nfs/v3/Nfsv3Encoder.js'
import * as M from '@jsonjoy.com/json-pack/lib/nfs/v3/messages.js'
import * as S from '@jsonjoy.com/json-pack/lib/nfs/v3/structs.js'
import { RpcOpaqueAuth } from '@jsonjoy.com/json-pack/lib/rpc/messages.js'
import { XdrCodec } from '../../../src/xdr/index.js'
import type { Fattr3, InboundMap } from '../../../src/xdr/types.js'
import type { DecodeMethod } from '../../vectors/wire.js'
import { decodeWith } from '../../vectors/wire.js'
import { Reader, acceptedReply, own } from './helpers.js'

const codec = XdrCodec.load()
const MAP: InboundMap = { serverUid: 1000, serverGid: 100, localUid: 5000, localGid: 500 }
const NONE = new RpcOpaqueAuth(0, new Reader(new Uint8Array(0)))

/** Ids as [uid, gid]: server-owned, swapped numbers (must not match), root, uid-only match. */
const OWNED: [number, number] = [1000, 100]
const SWAPPED: [number, number] = [100, 1000]
const ROOT: [number, number] = [0, 0]
const UID_ONLY: [number, number] = [1000, 7]

function mapped([uid, gid]: [number, number], map: InboundMap | null): [number, number] {
  if (map === null) return [uid, gid]
  return [uid === map.serverUid ? map.localUid : uid, gid === map.serverGid ? map.localGid : gid]
}

function fattr([uid, gid]: [number, number]): S.Nfsv3Fattr {
  const t = new S.Nfsv3Time(1, 2)
  return new S.Nfsv3Fattr(1, 0o644, 1, uid, gid, 10n, 4096n, new S.Nfsv3SpecData(0, 0), 1n, 99n, t, t, t)
}

function post(ids: [number, number]): S.Nfsv3PostOpAttr {
  return new S.Nfsv3PostOpAttr(true, fattr(ids))
}

function wcc(ids: [number, number]): S.Nfsv3WccData {
  return new S.Nfsv3WccData(new S.Nfsv3PreOpAttr(false), post(ids))
}

/** Every fattr3 in a decoded result, in field order (entries last). */
function attrsOf(res: Record<string, unknown>): Fattr3[] {
  const out: Fattr3[] = []
  for (const k of ['attr', 'after', 'dirAttr', 'dirAfter']) if (res[k] !== undefined) out.push(res[k] as Fattr3)
  for (const e of (res.entries as { attr?: Fattr3 }[] | undefined) ?? []) if (e.attr !== undefined) out.push(e.attr)
  return out
}

/** One result type: the procedure, its decoder, the reply, and the ids it carries in attrsOf order. */
interface Case {
  name: string
  proc: number
  method: DecodeMethod
  resp: unknown
  ids: [number, number][]
}

const fh = new S.Nfsv3Fh(new Uint8Array([1, 2, 3, 4]))
const verf = new Uint8Array(8)

const CASES: Case[] = [
  { name: 'GETATTR attr', proc: 1, method: 'decodeGetattr', resp: new M.Nfsv3GetattrResponse(0, new M.Nfsv3GetattrResOk(fattr(OWNED))), ids: [OWNED] },
  { name: 'SETATTR wcc after', proc: 2, method: 'decodeSetattr', resp: new M.Nfsv3SetattrResponse(0, new M.Nfsv3SetattrResOk(wcc(OWNED))), ids: [OWNED] },
  {
    name: 'LOOKUP object and dir attributes',
    proc: 3,
    method: 'decodeLookup',
    resp: new M.Nfsv3LookupResponse(0, new M.Nfsv3LookupResOk(fh, post(UID_ONLY), post(OWNED))),
    ids: [UID_ONLY, OWNED],
  },
  { name: 'ACCESS attr', proc: 4, method: 'decodeAccess', resp: new M.Nfsv3AccessResponse(0, new M.Nfsv3AccessResOk(post(OWNED), 1)), ids: [OWNED] },
  { name: 'READLINK attr', proc: 5, method: 'decodeReadlink', resp: new M.Nfsv3ReadlinkResponse(0, new M.Nfsv3ReadlinkResOk(post(OWNED), '/t')), ids: [OWNED] },
  {
    name: 'READ attr',
    proc: 6,
    method: 'decodeRead',
    resp: new M.Nfsv3ReadResponse(0, new M.Nfsv3ReadResOk(post(OWNED), 1, true, new Uint8Array([7]))),
    ids: [OWNED],
  },
  { name: 'WRITE wcc after', proc: 7, method: 'decodeWrite', resp: new M.Nfsv3WriteResponse(0, new M.Nfsv3WriteResOk(wcc(OWNED), 1, 2, verf)), ids: [OWNED] },
  {
    name: 'CREATE object attributes and dir wcc after',
    proc: 8,
    method: 'decodeCreate',
    resp: new M.Nfsv3CreateResponse(0, new M.Nfsv3CreateResOk(new S.Nfsv3PostOpFh(true, fh), post(OWNED), wcc(SWAPPED))),
    ids: [OWNED, SWAPPED],
  },
  {
    name: 'MKDIR object attributes and dir wcc after',
    proc: 9,
    method: 'decodeCreate',
    resp: new M.Nfsv3MkdirResponse(0, new M.Nfsv3MkdirResOk(new S.Nfsv3PostOpFh(true, fh), post(ROOT), wcc(OWNED))),
    ids: [ROOT, OWNED],
  },
  {
    name: 'SYMLINK object attributes and dir wcc after',
    proc: 10,
    method: 'decodeCreate',
    resp: new M.Nfsv3SymlinkResponse(0, new M.Nfsv3SymlinkResOk(new S.Nfsv3PostOpFh(false), post(OWNED), wcc(OWNED))),
    ids: [OWNED, OWNED],
  },
  {
    name: 'MKNOD object attributes and dir wcc after',
    proc: 11,
    method: 'decodeCreate',
    resp: new M.Nfsv3MknodResponse(0, new M.Nfsv3MknodResOk(new S.Nfsv3PostOpFh(true, fh), post(OWNED), wcc(UID_ONLY))),
    ids: [OWNED, UID_ONLY],
  },
  { name: 'REMOVE dir wcc after', proc: 12, method: 'decodeRemove', resp: new M.Nfsv3RemoveResponse(0, new M.Nfsv3RemoveResOk(wcc(OWNED))), ids: [OWNED] },
  { name: 'RMDIR dir wcc after', proc: 13, method: 'decodeRemove', resp: new M.Nfsv3RmdirResponse(0, new M.Nfsv3RmdirResOk(wcc(OWNED))), ids: [OWNED] },
  { name: 'LINK file attributes', proc: 15, method: 'decodeLink', resp: new M.Nfsv3LinkResponse(0, new M.Nfsv3LinkResOk(post(OWNED), wcc(OWNED))), ids: [OWNED] },
  {
    name: 'READDIRPLUS dir attributes and every entry',
    proc: 17,
    method: 'decodeReaddirplus',
    resp: new M.Nfsv3ReaddirplusResponse(
      0,
      new M.Nfsv3ReaddirplusResOk(
        post(OWNED),
        verf,
        new S.Nfsv3DirListPlus(
          true,
          new S.Nfsv3EntryPlus(1n, 'a', 1n, post(OWNED), new S.Nfsv3PostOpFh(true, fh),
            new S.Nfsv3EntryPlus(2n, 'b', 2n, post(SWAPPED), new S.Nfsv3PostOpFh(false),
              new S.Nfsv3EntryPlus(3n, 'c', 3n, new S.Nfsv3PostOpAttr(false), new S.Nfsv3PostOpFh(false),
                new S.Nfsv3EntryPlus(4n, 'd', 4n, post(ROOT), new S.Nfsv3PostOpFh(true, fh),
                  new S.Nfsv3EntryPlus(5n, 'e', 5n, post(UID_ONLY), new S.Nfsv3PostOpFh(true, fh),
                    new S.Nfsv3EntryPlus(6n, 'f', 6n, post(OWNED), new S.Nfsv3PostOpFh(true, fh))))))),
        ),
      ),
    ),
    ids: [OWNED, OWNED, SWAPPED, ROOT, UID_ONLY, OWNED],
  },
  {
    name: 'FSSTAT attr',
    proc: 18,
    method: 'decodeFsstat',
    resp: new M.Nfsv3FsstatResponse(0, new M.Nfsv3FsstatResOk(post(OWNED), 1n, 1n, 1n, 1n, 1n, 1n, 0)),
    ids: [OWNED],
  },
  {
    name: 'FSINFO attr',
    proc: 19,
    method: 'decodeFsinfo',
    resp: new M.Nfsv3FsinfoResponse(0, new M.Nfsv3FsinfoResOk(post(OWNED), 1, 1, 1, 1, 1, 1, 1, 1n, { seconds: 0, nseconds: 1 }, 27)),
    ids: [OWNED],
  },
  {
    name: 'PATHCONF attr',
    proc: 20,
    method: 'decodePathconf',
    resp: new M.Nfsv3PathconfResponse(0, new M.Nfsv3PathconfResOk(post(OWNED), 1, 255, true, true, false, true)),
    ids: [OWNED],
  },
]

function message(c: Case): Buffer {
  return acceptedReply(1, NONE, own(new Nfsv3Encoder().encodeMessage(c.resp as M.Nfsv3Response, c.proc as 1, false)))
}

for (const c of CASES) {
  test(`${c.name}: rewritten by the map, untouched without one`, () => {
    const msg = message(c)
    for (const map of [MAP, null]) {
      const d = decodeWith(codec, c.method, msg, map)
      assert.is(d.reply.kind, 'success')
      const got = attrsOf(d.res as Record<string, unknown>).map((a) => [a.uid, a.gid])
      assert.equal(got, c.ids.map((ids) => mapped(ids, map)), map === null ? 'no map' : 'with map')
    }
  })
}

test('the map is per call: a mapped decode leaves no state behind for the next unmapped one', () => {
  const msg = message(CASES[0]!)
  assert.is(codec.decodeGetattr(msg, MAP).res?.attr?.uid, 5000)
  assert.is(codec.decodeGetattr(msg, null).res?.attr?.uid, 1000)
  assert.is(codec.decodeGetattr(msg, { ...MAP, localUid: 6000 }).res?.attr?.uid, 6000)
})

test('a map whose server ids are the same number maps uid and gid independently', () => {
  const msg = message(CASES[0]!)
  const map = { serverUid: 100, serverGid: 100, localUid: 1, localGid: 2 }
  const attr = codec.decodeGetattr(msg, map).res?.attr
  assert.equal([attr?.uid, attr?.gid], [1000, 2])
})

test('every result type that carries fattr3 is covered here', () => {
  const covered = new Set(CASES.map((c) => c.proc))
  for (const proc of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 17, 18, 19, 20]) assert.ok(covered.has(proc), `proc ${proc}`)
})

test.run()

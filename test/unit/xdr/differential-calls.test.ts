// Differential test of the call encoders against @jsonjoy.com/json-pack: for a few hundred seeded
// random argument sets per procedure, the record our codec builds is decoded by json-pack's RPC,
// MOUNT and NFSv3 decoders and must give back exactly the arguments we passed.
// json-pack has no portmapper codec: GETPORT arguments are read back with its XDR primitives instead
// (and the GETPORT call is also pinned by a hand vector in test/vectors/portmap.ts).

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RpcMessageDecoder } from '@jsonjoy.com/json-pack/lib/rpc/RpcMessageDecoder.js'
import type { RpcCallMessage } from '@jsonjoy.com/json-pack/lib/rpc/messages.js'
import { XdrDecoder } from '@jsonjoy.com/json-pack/lib/xdr/XdrDecoder.js'
import { Nfsv3Decoder } from '@jsonjoy.com/json-pack/lib/nfs/v3/Nfsv3Decoder.js'
import * as M from '@jsonjoy.com/json-pack/lib/nfs/v3/messages.js'
import * as S from '@jsonjoy.com/json-pack/lib/nfs/v3/structs.js'
import { MountDecoder } from '@jsonjoy.com/json-pack/lib/nfs/v3/mount/MountDecoder.js'
import { MountMntRequest, MountUmntRequest } from '@jsonjoy.com/json-pack/lib/nfs/v3/mount/messages.js'
import { XdrCodec } from '../../../src/xdr/index.js'
import type { AuthSys } from '../../../src/xdr/types.js'
import { Reader, Rng, plain, theirSattr, theirTime } from './helpers.js'

const CASES = 300
const codec = XdrCodec.load()
const rpc = new RpcMessageDecoder()
const nfs = new Nfsv3Decoder()
const mount = new MountDecoder()

interface Parsed {
  call: RpcCallMessage
  params: Reader
}

/**
 * Checks the record mark (one last fragment whose length is everything after it, plus `trailing`
 * bytes the caller sends itself), the call header and the credential, and returns the arguments.
 */
function parseCall(rec: Buffer, xid: number, prog: number, vers: number, proc: number, cred: AuthSys | null, trailing = 0): Parsed {
  assert.is(rec.readUInt32BE(0), (0x80000000 | (rec.length - 4 + trailing)) >>> 0, 'record mark')
  const call = rpc.decodeMessage(new Reader(new Uint8Array(rec.subarray(4)))) as RpcCallMessage
  assert.ok(call !== undefined, 'json-pack decodes the call')
  assert.is(call.xid, xid)
  assert.is(call.rpcvers, 2)
  assert.is(call.prog, prog)
  assert.is(call.vers, vers)
  assert.is(call.proc, proc)
  assert.is(call.verf.flavor, 0)
  assert.is(call.verf.body.size(), 0)
  if (cred === null) {
    assert.is(call.cred.flavor, 0)
    assert.is(call.cred.body.size(), 0)
  } else {
    assert.is(call.cred.flavor, 1)
    const body = call.cred.body
    const x = new XdrDecoder(body)
    const stamp = x.readUnsignedInt()
    const machine = x.readString()
    const uid = x.readUnsignedInt()
    const gid = x.readUnsignedInt()
    const n = x.readUnsignedInt()
    const gids: number[] = []
    for (let i = 0; i < n; i++) gids.push(x.readUnsignedInt())
    assert.is(body.x, body.end, 'credential body fully consumed')
    assert.equal({ stamp, machine, uid, gid, gids }, { ...cred, gids: [...cred.gids] })
  }
  return { call, params: call.params ?? new Reader(new Uint8Array(0)) }
}

/** Decodes NFSv3 arguments with json-pack and compares them to the expected request. */
function checkNfs(p: Parsed, proc: number, expected: unknown): void {
  const got = nfs.decodeMessage(p.params, proc as 1, true)
  assert.equal(plain(got), plain(expected))
  assert.is(p.params.x, p.params.end, 'arguments fully consumed')
}

function dirop(fh: Buffer, name: string): S.Nfsv3DirOpArgs {
  return new S.Nfsv3DirOpArgs(new S.Nfsv3Fh(fh), name)
}

function offset(r: Rng): number {
  return r.bool(0.2) ? r.pick([0, 2 ** 32, 2 ** 53 - 1, 2 ** 53]) : r.int(2 ** 45)
}

test('NULL of any program: header only, AUTH_NONE', () => {
  const r = new Rng(1)
  for (let i = 0; i < CASES; i++) {
    const xid = r.u32()
    const prog = r.pick([100000, 100003, 100005, r.u32()])
    const vers = r.edgeU32()
    const p = parseCall(codec.rpcNull(xid, prog, vers), xid, prog, vers, 0, null)
    assert.is(p.params.size(), 0)
  }
})

test('PMAPPROC_GETPORT (RFC 1833 §3), read back with json-pack XDR primitives', () => {
  const r = new Rng(2)
  for (let i = 0; i < CASES; i++) {
    const xid = r.u32()
    const args = { prog: r.edgeU32(), vers: r.edgeU32(), prot: r.pick([6, 17]) }
    const p = parseCall(codec.pmapGetport(xid, args.prog, args.vers, args.prot), xid, 100000, 2, 3, null)
    const x = new XdrDecoder(p.params)
    assert.equal({ prog: x.readUnsignedInt(), vers: x.readUnsignedInt(), prot: x.readUnsignedInt(), port: x.readUnsignedInt() }, { ...args, port: 0 })
    assert.is(p.params.x, p.params.end)
  }
})

test('MOUNTPROC3_MNT and MOUNTPROC3_UMNT (RFC 1813 §5.2.1, §5.2.3)', () => {
  const r = new Rng(3)
  for (let i = 0; i < CASES; i++) {
    const xid = r.u32()
    const cred = r.cred()
    const dirpath = r.bool(0.05) ? '/'.repeat(1024) : '/' + r.name(60)
    const umnt = r.bool()
    const rec = umnt ? codec.mntUmnt(xid, cred, dirpath) : codec.mntMnt(xid, cred, dirpath)
    const p = parseCall(rec, xid, 100005, 3, umnt ? 3 : 1, cred)
    const got = mount.decodeMessage(p.params, (umnt ? 3 : 1) as 1, true)
    assert.equal(plain(got), plain(umnt ? new MountUmntRequest(dirpath) : new MountMntRequest(dirpath)))
    assert.is(p.params.x, p.params.end)
  }
})

/** Runs CASES random cases of one NFS procedure: gen returns our record and json-pack's expected request. */
function nfsCase(name: string, proc: number, seed: number, gen: (r: Rng, xid: number, cred: AuthSys | null) => [Buffer, unknown, number?]): void {
  test(`NFSPROC3 ${name} (${proc})`, () => {
    const r = new Rng(seed)
    for (let i = 0; i < CASES; i++) {
      const xid = r.u32()
      const cred = r.cred()
      const [rec, expected, trailing] = gen(r, xid, cred)
      const p = parseCall(rec, xid, 100003, 3, proc, cred, trailing ?? 0)
      checkNfs(p, proc, expected)
    }
  })
}

nfsCase('GETATTR', 1, 11, (r, xid, cred) => {
  const fh = r.fh()
  return [codec.getattr(xid, cred, fh), new M.Nfsv3GetattrRequest(new S.Nfsv3Fh(fh))]
})

nfsCase('SETATTR', 2, 12, (r, xid, cred) => {
  const fh = r.fh()
  const s = r.sattr()
  const guard = r.bool() ? r.time() : undefined
  return [
    codec.setattr(xid, cred, fh, s, guard),
    new M.Nfsv3SetattrRequest(new S.Nfsv3Fh(fh), theirSattr(s), new S.Nfsv3SattrGuard(guard !== undefined, guard && theirTime(guard))),
  ]
})

nfsCase('LOOKUP', 3, 13, (r, xid, cred) => {
  const fh = r.fh()
  const name = r.name()
  return [codec.lookup(xid, cred, fh, name), new M.Nfsv3LookupRequest(dirop(fh, name))]
})

nfsCase('ACCESS', 4, 14, (r, xid, cred) => {
  const fh = r.fh()
  const access = r.int(64)
  return [codec.access(xid, cred, fh, access), new M.Nfsv3AccessRequest(new S.Nfsv3Fh(fh), access)]
})

nfsCase('READLINK', 5, 15, (r, xid, cred) => {
  const fh = r.fh()
  return [codec.readlink(xid, cred, fh), new M.Nfsv3ReadlinkRequest(new S.Nfsv3Fh(fh))]
})

nfsCase('READ', 6, 16, (r, xid, cred) => {
  const fh = r.fh()
  const off = offset(r)
  const count = r.edgeU32()
  return [codec.read(xid, cred, fh, off, count), new M.Nfsv3ReadRequest(new S.Nfsv3Fh(fh), BigInt(off), count)]
})

nfsCase('WRITE (header + caller-sent data and pad)', 7, 17, (r, xid, cred) => {
  const fh = r.fh()
  const off = offset(r)
  const data = r.bytes(r.bool(0.05) ? 65536 + r.int(4) : r.int(300))
  const count = r.bool(0.8) ? data.length : r.edgeU32()
  const stable = r.int(3)
  const head = codec.writeHeader(xid, cred, fh, off, count, stable, data.length)
  const pad = (4 - (data.length % 4)) % 4
  const rec = Buffer.concat([head, data, Buffer.alloc(pad)])
  return [rec, new M.Nfsv3WriteRequest(new S.Nfsv3Fh(fh), BigInt(off), count, stable as 0, data), 0]
})

nfsCase('CREATE', 8, 18, (r, xid, cred) => {
  const fh = r.fh()
  const name = r.name()
  const mode = r.int(3)
  if (mode === 2) {
    const verf = r.bytes(8)
    return [codec.create(xid, cred, fh, name, { mode: 2, verf }), new M.Nfsv3CreateRequest(dirop(fh, name), new S.Nfsv3CreateHow(2, undefined, verf))]
  }
  const s = r.sattr()
  return [
    codec.create(xid, cred, fh, name, { mode: mode as 0, attrs: s }),
    new M.Nfsv3CreateRequest(dirop(fh, name), new S.Nfsv3CreateHow(mode as 0, theirSattr(s))),
  ]
})

nfsCase('MKDIR', 9, 19, (r, xid, cred) => {
  const fh = r.fh()
  const name = r.name()
  const s = r.sattr()
  return [codec.mkdir(xid, cred, fh, name, s), new M.Nfsv3MkdirRequest(dirop(fh, name), theirSattr(s))]
})

nfsCase('SYMLINK', 10, 20, (r, xid, cred) => {
  const fh = r.fh()
  const name = r.name()
  const s = r.sattr()
  const target = r.bool(0.05) ? 'x'.repeat(4096) : r.name(200)
  return [codec.symlink(xid, cred, fh, name, s, target), new M.Nfsv3SymlinkRequest(dirop(fh, name), theirSattr(s), target)]
})

nfsCase('MKNOD', 11, 21, (r, xid, cred) => {
  const fh = r.fh()
  const name = r.name()
  const s = r.sattr()
  const type = r.pick([3, 4, 6, 7])
  const spec = { major: r.edgeU32(), minor: r.edgeU32() }
  const dev = new S.Nfsv3DeviceData(theirSattr(s), new S.Nfsv3SpecData(spec.major, spec.minor))
  const what =
    type === 4
      ? new S.Nfsv3MknodData(4, dev)
      : type === 3
        ? new S.Nfsv3MknodData(3, undefined, dev)
        : type === 6
          ? new S.Nfsv3MknodData(6, undefined, undefined, theirSattr(s))
          : new S.Nfsv3MknodData(7, undefined, undefined, undefined, theirSattr(s))
  return [codec.mknod(xid, cred, fh, name, type, s, spec), new M.Nfsv3MknodRequest(dirop(fh, name), what)]
})

nfsCase('REMOVE', 12, 22, (r, xid, cred) => {
  const fh = r.fh()
  const name = r.name()
  return [codec.remove(xid, cred, fh, name), new M.Nfsv3RemoveRequest(dirop(fh, name))]
})

nfsCase('RMDIR', 13, 23, (r, xid, cred) => {
  const fh = r.fh()
  const name = r.name()
  return [codec.rmdir(xid, cred, fh, name), new M.Nfsv3RmdirRequest(dirop(fh, name))]
})

nfsCase('RENAME', 14, 24, (r, xid, cred) => {
  const a = r.fh()
  const b = r.fh()
  const an = r.name()
  const bn = r.bool(0.05) ? 'n'.repeat(4096) : r.name()
  return [codec.rename(xid, cred, a, an, b, bn), new M.Nfsv3RenameRequest(dirop(a, an), dirop(b, bn))]
})

nfsCase('LINK', 15, 25, (r, xid, cred) => {
  const fh = r.fh()
  const dir = r.fh()
  const name = r.name()
  return [codec.link(xid, cred, fh, dir, name), new M.Nfsv3LinkRequest(new S.Nfsv3Fh(fh), dirop(dir, name))]
})

nfsCase('READDIRPLUS', 17, 27, (r, xid, cred) => {
  const fh = r.fh()
  const cookie = r.u64()
  const verf = r.bytes(8)
  const dircount = r.edgeU32()
  const maxcount = r.edgeU32()
  return [
    codec.readdirplus(xid, cred, fh, cookie, verf, dircount, maxcount),
    new M.Nfsv3ReaddirplusRequest(new S.Nfsv3Fh(fh), cookie, verf, dircount, maxcount),
  ]
})

nfsCase('FSSTAT', 18, 28, (r, xid, cred) => {
  const fh = r.fh()
  return [codec.fsstat(xid, cred, fh), new M.Nfsv3FsstatRequest(new S.Nfsv3Fh(fh))]
})

nfsCase('FSINFO', 19, 29, (r, xid, cred) => {
  const fh = r.fh()
  return [codec.fsinfo(xid, cred, fh), new M.Nfsv3FsinfoRequest(new S.Nfsv3Fh(fh))]
})

nfsCase('PATHCONF', 20, 30, (r, xid, cred) => {
  const fh = r.fh()
  return [codec.pathconf(xid, cred, fh), new M.Nfsv3PathconfRequest(new S.Nfsv3Fh(fh))]
})

nfsCase('COMMIT', 21, 31, (r, xid, cred) => {
  const fh = r.fh()
  const off = offset(r)
  const count = r.edgeU32()
  return [codec.commit(xid, cred, fh, off, count), new M.Nfsv3CommitRequest(new S.Nfsv3Fh(fh), BigInt(off), count)]
})

test.run()

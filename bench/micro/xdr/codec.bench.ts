// The WASM XDR codec (src/xdr) against @jsonjoy.com/json-pack's pure-JS RPC + NFSv3 codecs, side by
// side on the messages the hot paths see: a GETATTR call with an AUTH_SYS credential, a GETATTR
// reply (fattr3), a 64 KiB READ reply and a READDIRPLUS reply of 30 entries.
//
// Both sides do the whole job a client needs per message:
// - encode: from (xid, credential, file handle) to the record bytes, record mark included. json-pack
//   takes the credential as an opaque body, so it is measured twice: body encoded once and reused
//   (a single-identity client) and body encoded per call (a multi-user client, which is what ours
//   does on every call). json-pack's output is a view of its writer's buffer (no copy); ours is a
//   fresh Buffer the caller owns.
// - decode: from the reply message (record mark stripped) to values, with the inbound uid/gid map
//   applied to every fattr3 (in WASM for ours, a JS pass over the decoded objects for theirs).
// All inputs are built by json-pack's encoders, and a one-time check confirms both sides agree on
// them before anything is timed.
//
// Run: npx tsx bench/micro/xdr/codec.bench.ts (needs build/xdr.wasm: npm run build:wasm).
import { Reader } from '@jsonjoy.com/buffers/lib/Reader.js'
import { Writer } from '@jsonjoy.com/buffers/lib/Writer.js'
import { FullNfsv3Encoder } from '@jsonjoy.com/json-pack/lib/nfs/v3/FullNfsv3Encoder.js'
import { Nfsv3Decoder } from '@jsonjoy.com/json-pack/lib/nfs/v3/Nfsv3Decoder.js'
import * as M from '@jsonjoy.com/json-pack/lib/nfs/v3/messages.js'
import * as S from '@jsonjoy.com/json-pack/lib/nfs/v3/structs.js'
import { RpcMessageDecoder } from '@jsonjoy.com/json-pack/lib/rpc/RpcMessageDecoder.js'
import { RpcAcceptedReplyMessage, RpcOpaqueAuth } from '@jsonjoy.com/json-pack/lib/rpc/messages.js'
import { XdrEncoder } from '@jsonjoy.com/json-pack/lib/xdr/XdrEncoder.js'
import { XdrCodec } from '../../../src/xdr/index.js'
import type { AuthSys, InboundMap } from '../../../src/xdr/types.js'
import { printComparison, runCases, type Case } from '../../lib/side-by-side.js'

const PROC_GETATTR = 1
const PROC_READ = 6
const PROC_READDIRPLUS = 17
const READ_SIZE = 64 * 1024 // data<> is a view of the message on both sides
const DIR_ENTRIES = 30

const codec = XdrCodec.load()

// A ganesha VFS handle is about this long; AUTH_SYS as mapnfs sends it with uid=1234,gid=1234.
const fh = Buffer.from('43000100000000000a00000000000000e8b6a5b14f2c4d9a', 'hex')
const cred: AuthSys = { stamp: 0x5eed, machine: 'bench-host', uid: 1234, gid: 1234, gids: [1234] }
const map: InboundMap = { serverUid: 1234, serverGid: 1234, localUid: 2000, localGid: 2000 }

// ------------------------------------------------------------------------------------------------
// Inputs, built with json-pack

const VERF_NONE = new RpcOpaqueAuth(0, new Reader(new Uint8Array(0)))

/** The AUTH_SYS body (RFC 5531 appendix A) as json-pack wants it: an opaque auth with the body bytes. */
function credBody(w: Writer, x: XdrEncoder, c: AuthSys, machine: Uint8Array): RpcOpaqueAuth {
  x.writeUnsignedInt(c.stamp)
  // The machine name's bytes are written as an opaque: json-pack's writeStr goes through an offset
  // that goes stale when the writer grows (see test/unit/xdr/differential-replies.test.ts).
  x.writeVarlenOpaque(machine)
  x.writeUnsignedInt(c.uid)
  x.writeUnsignedInt(c.gid)
  x.writeUnsignedInt(c.gids.length)
  for (let i = 0; i < c.gids.length; i++) x.writeUnsignedInt(c.gids[i]!)
  return new RpcOpaqueAuth(1, new Reader(w.flush()))
}

const machineBytes = new Uint8Array(Buffer.from(cred.machine, 'utf8'))
const credWriter = new Writer(4096)
const credXdr = new XdrEncoder(credWriter)
const cachedCred = ((): RpcOpaqueAuth => {
  const w = new Writer(256)
  return credBody(w, new XdrEncoder(w), cred, machineBytes)
})()

function fattr(fileid: number, type: number, size: bigint): S.Nfsv3Fattr {
  const t = new S.Nfsv3Time(1_732_000_000, 123_456_789)
  return new S.Nfsv3Fattr(type as 1, 0o100644, 1, 1234, 1234, size, size, new S.Nfsv3SpecData(0, 0), 0x0a00n, BigInt(fileid), t, t, t)
}

/** An accepted SUCCESS reply (no record mark) built by a fresh json-pack encoder, copied out. */
function reply(proc: number, response: unknown): Buffer {
  const rec = new FullNfsv3Encoder().encodeAcceptedReply(0x1234, proc, VERF_NONE, response as M.Nfsv3Response)
  return Buffer.from(rec.subarray(4))
}

const getattrReply = reply(PROC_GETATTR, new M.Nfsv3GetattrResponse(0, new M.Nfsv3GetattrResOk(fattr(42, 1, 4096n))))

const readData = new Uint8Array(READ_SIZE).fill(0xab)
const readReply = reply(
  PROC_READ,
  new M.Nfsv3ReadResponse(0, new M.Nfsv3ReadResOk(new S.Nfsv3PostOpAttr(true, fattr(42, 1, 1n << 30n)), READ_SIZE, false, readData)),
)

const readdirplusReply = ((): Buffer => {
  let list: S.Nfsv3EntryPlus | undefined
  for (let i = DIR_ENTRIES - 1; i >= 0; i--) {
    const efh = Buffer.from(fh)
    efh.writeUInt32BE(1000 + i, efh.length - 4)
    list = new S.Nfsv3EntryPlus(
      BigInt(1000 + i),
      `file-${String(i).padStart(4, '0')}.dat`,
      BigInt(i + 1),
      new S.Nfsv3PostOpAttr(true, fattr(1000 + i, 1, 8192n)),
      new S.Nfsv3PostOpFh(true, new S.Nfsv3Fh(new Uint8Array(efh))),
      list,
    )
  }
  const ok = new M.Nfsv3ReaddirplusResOk(
    new S.Nfsv3PostOpAttr(true, fattr(2, 2, 4096n)),
    new Uint8Array(8).fill(7),
    new S.Nfsv3DirListPlus(true, list),
  )
  return reply(PROC_READDIRPLUS, new M.Nfsv3ReaddirplusResponse(0, ok))
})()

// ------------------------------------------------------------------------------------------------
// Theirs: the json-pack pipeline a client would run

const fullEnc = new FullNfsv3Encoder()
const rpcDec = new RpcMessageDecoder()
const nfsDec = new Nfsv3Decoder()

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** The inbound map on one decoded fattr3 (ours does this inside the decoder). */
function mapFattr(f: S.Nfsv3Fattr | undefined): void {
  if (f === undefined) return
  const m = f as Mutable<S.Nfsv3Fattr>
  if (m.uid === map.serverUid) m.uid = map.localUid
  if (m.gid === map.serverGid) m.gid = map.localGid
}

function theirDecode(msg: Uint8Array, proc: number): unknown {
  const rpc = rpcDec.decodeMessage(new Reader(msg))
  if (!(rpc instanceof RpcAcceptedReplyMessage) || rpc.stat !== 0 || rpc.results === undefined) {
    throw new Error('json-pack: not an accepted SUCCESS reply')
  }
  return nfsDec.decodeMessage(rpc.results, proc as 1, false)
}

function theirGetattr(msg: Uint8Array): M.Nfsv3GetattrResponse {
  const res = theirDecode(msg, PROC_GETATTR) as M.Nfsv3GetattrResponse
  mapFattr(res.resok?.objAttributes)
  return res
}

function theirRead(msg: Uint8Array): M.Nfsv3ReadResponse {
  const res = theirDecode(msg, PROC_READ) as M.Nfsv3ReadResponse
  mapFattr(res.resok?.fileAttributes.attributes)
  return res
}

function theirReaddirplus(msg: Uint8Array): M.Nfsv3ReaddirplusResponse {
  const res = theirDecode(msg, PROC_READDIRPLUS) as M.Nfsv3ReaddirplusResponse
  mapFattr(res.resok?.dirAttributes.attributes)
  for (let e = res.resok?.reply.entries; e !== undefined; e = e.nextentry) mapFattr(e.nameAttributes.attributes)
  return res
}

function theirGetattrCall(xid: number, auth: RpcOpaqueAuth): Uint8Array {
  return fullEnc.encodeCall(xid, PROC_GETATTR, auth, VERF_NONE, new M.Nfsv3GetattrRequest(new S.Nfsv3Fh(fh)))
}

// ------------------------------------------------------------------------------------------------
// One-time agreement check: both sides must read the same inputs the same way, or the timing is moot.

function check(): string[] {
  const notes: string[] = []
  const fail = (what: string): never => {
    throw new Error(`codec bench: ours and json-pack disagree on ${what}`)
  }
  if (!Buffer.from(theirGetattrCall(7, cachedCred)).equals(codec.getattr(7, cred, fh))) fail('the GETATTR call bytes')
  const ga = codec.decodeGetattr(getattrReply, map).res
  const tga = theirGetattr(getattrReply).resok!.objAttributes
  if (ga?.attr?.uid !== 2000 || tga.uid !== 2000 || ga.attr.fileid !== tga.fileid) fail('the GETATTR reply')
  const rd = codec.decodeRead(readReply, map).res
  const trd = theirRead(readReply).resok!
  if (rd?.data?.length !== READ_SIZE || trd.data.length !== READ_SIZE || rd.attr?.uid !== 2000) fail('the READ reply')
  const dp = codec.decodeReaddirplus(readdirplusReply, map).res
  let n = 0
  for (let e = theirReaddirplus(readdirplusReply).resok!.reply.entries; e !== undefined; e = e.nextentry) {
    if (e.name !== dp?.entries?.[n]?.name || e.nameAttributes.attributes?.uid !== 2000) fail(`READDIRPLUS entry ${n}`)
    n++
  }
  if (n !== DIR_ENTRIES || dp?.entries?.length !== DIR_ENTRIES || dp.entries[0]!.attr?.uid !== 2000) fail('the READDIRPLUS entry count')

  // json-pack's FullNfsv3Encoder reserves the record mark with `writer.x += 4` and writes it at that
  // saved offset afterwards; when its writer grows in between, the saved offset is stale. Count how
  // often that corrupts a call in a long run of reused-encoder calls (what a client would do).
  let bad = 0
  const calls = 5000
  for (let i = 0; i < calls; i++) {
    if (!Buffer.from(theirGetattrCall(i, cachedCred)).equals(codec.getattr(i, cred, fh))) bad++
  }
  if (bad > 0) notes.push(`note: json-pack FullNfsv3Encoder reused for ${calls} GETATTR calls produced ${bad} corrupt records (stale record-mark offset after its Writer grows)`)
  return notes
}

// ------------------------------------------------------------------------------------------------

let sink: unknown
let xid = 1

const ENCODE_BATCH = 1000
const SMALL_BATCH = 1000
const READDIR_BATCH = 50

const cases: Case[] = [
  {
    name: 'encode GETATTR call (AUTH_SYS)',
    batch: ENCODE_BATCH,
    contenders: [
      {
        name: 'ours',
        fn: () => {
          for (let i = 0; i < ENCODE_BATCH; i++) sink = codec.getattr(xid++ >>> 0, cred, fh)
        },
      },
      {
        name: 'json-pack, cred reused',
        fn: () => {
          for (let i = 0; i < ENCODE_BATCH; i++) sink = theirGetattrCall(xid++ >>> 0, cachedCred)
        },
      },
      {
        name: 'json-pack, cred per call',
        fn: () => {
          for (let i = 0; i < ENCODE_BATCH; i++) {
            sink = theirGetattrCall(xid++ >>> 0, credBody(credWriter, credXdr, cred, machineBytes))
          }
        },
      },
    ],
  },
  {
    name: 'decode GETATTR reply (fattr3, mapped)',
    batch: SMALL_BATCH,
    contenders: [
      {
        name: 'ours',
        fn: () => {
          for (let i = 0; i < SMALL_BATCH; i++) sink = codec.decodeGetattr(getattrReply, map)
        },
      },
      {
        name: 'json-pack',
        fn: () => {
          for (let i = 0; i < SMALL_BATCH; i++) sink = theirGetattr(getattrReply)
        },
      },
    ],
  },
  {
    name: 'decode READ reply (64 KiB, mapped)',
    // Neither side copies the 64 KiB: ours copies only the headers into WASM and returns a view.
    batch: SMALL_BATCH,
    contenders: [
      {
        name: 'ours',
        fn: () => {
          for (let i = 0; i < SMALL_BATCH; i++) sink = codec.decodeRead(readReply, map)
        },
      },
      {
        name: 'json-pack',
        fn: () => {
          for (let i = 0; i < SMALL_BATCH; i++) sink = theirRead(readReply)
        },
      },
    ],
  },
  {
    name: `decode READDIRPLUS reply (${DIR_ENTRIES} entries, mapped)`,
    batch: READDIR_BATCH,
    units: { per: DIR_ENTRIES, unit: 'entries' },
    contenders: [
      {
        name: 'ours',
        fn: () => {
          for (let i = 0; i < READDIR_BATCH; i++) sink = codec.decodeReaddirplus(readdirplusReply, map)
        },
      },
      {
        name: 'json-pack',
        fn: () => {
          for (let i = 0; i < READDIR_BATCH; i++) sink = theirReaddirplus(readdirplusReply)
        },
      },
    ],
  },
]

const notes = check()
const results = await runCases(cases, { rounds: 5, timeMs: 200 })
printComparison('xdr codec: WASM (ours) vs @jsonjoy.com/json-pack (theirs); median of 5 alternating rounds', cases, results)
for (const n of notes) process.stdout.write(n + '\n')
if (sink === undefined) process.stdout.write('\n')

// What crosses between the pooled engine's threads, through a real MessageChannel: errors come
// back as the classes that were thrown, results rebuilt from the tape equal the originals field for
// field (absent fields stay absent), and byte strings travel in transferred memory.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { once } from 'node:events'
import { Nfs3Error } from '../../../src/proto/nfs3/index.js'
import { RpcAcceptError, RpcClosedError, RpcConnectError, RpcDeniedError, RpcTimeoutError } from '../../../src/rpc/index.js'
import { XdrDecodeError, XdrEncodeError } from '../../../src/xdr/index.js'
import { NFS3ERR_BAD_COOKIE, NFS3ERR_STALE } from '../../../src/xdr/constants.js'
import { BytePacker, EngineWorkerError, OP_CODE, errorToWire, rehydrateError, type WireError } from '../../../src/engine/wire.js'
import { TapeRing, TapeWriter, createRingMemory, readTape, SCHEMAS, type TapeParts } from '../../../src/engine/result-tape.js'
import type { Fattr3 } from '../../../src/xdr/types.js'

async function across<T>(value: T, transfer: ArrayBuffer[] = []): Promise<T> {
  const { port1, port2 } = new MessageChannel()
  try {
    port1.postMessage(value, transfer)
    const [got] = (await once(port2 as MessagePort, 'message')) as [T]
    return got
  } finally {
    port1.close()
    port2.close()
  }
}

test('errors cross as plain data and come back as the class thrown, with code, errno, fields and message', async () => {
  const errors: Error[] = [
    new Nfs3Error(NFS3ERR_STALE, 1),
    new Nfs3Error(NFS3ERR_BAD_COOKIE, 17),
    new RpcTimeoutError(100003, 6, 20_000, 'the server closed the connection'),
    new RpcClosedError(),
    new RpcConnectError('127.0.0.1', 2049, Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    new RpcConnectError('127.0.0.1', 2049, Object.assign(new Error('bind'), { code: 'EACCES' })),
    new RpcDeniedError({ kind: 'auth_error', authStat: 5 }),
    new RpcAcceptError(100003, { kind: 'prog_mismatch', low: 2, high: 3 }),
    new XdrDecodeError('truncated', 'at byte 12'),
    new XdrEncodeError('name-too-long'),
  ]
  for (const e of errors) {
    const back = rehydrateError(await across(errorToWire(e)))
    assert.is(back.constructor, e.constructor, e.name)
    assert.is(back.message, e.message)
    assert.is(back.name, e.name)
    const fields = (x: Error) => Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'cause'))
    assert.equal(fields(back), fields(e), `${e.name} fields`)
  }
  const stale = rehydrateError(await across(errorToWire(new Nfs3Error(NFS3ERR_STALE, 4)))) as Nfs3Error
  assert.is(stale.errno, 116, 'ESTALE stays ESTALE')
  assert.is(stale.status, NFS3ERR_STALE)
  assert.is(stale.proc, 4)
})

test('an error of a kind the main thread does not know keeps code, errno, message and fields', async () => {
  const odd = Object.assign(new Error('something else'), { code: 'ERR_SOMETHING', errno: 28, detail: 'x' })
  const back = rehydrateError(await across(errorToWire(odd)))
  assert.instance(back, EngineWorkerError)
  assert.equal([(back as unknown as WireError).code, (back as unknown as WireError).errno, back.message, (back as unknown as WireError).detail], ['ERR_SOMETHING', 28, 'something else', 'x'])
  const plain = rehydrateError(await across(errorToWire(new TypeError('bug'))))
  assert.is((plain as unknown as WireError).errno, 5, 'no errno: EIO')
  assert.is(plain.message, 'bug')
})

const t = (s: number) => ({ seconds: s, nseconds: 999_999_999 })
const attr = (fileid: bigint): Fattr3 => ({
  type: 1, mode: 0o104755, nlink: 3, uid: 4294967294, gid: 65534, size: 2 ** 53 - 1, used: 8192, rdevMajor: 8, rdevMinor: 1,
  fsid: 1234567890123, fileid, atime: t(1), mtime: t(2 ** 32 - 1), ctime: t(0),
})

/** One result of every shape, with optional fields present and absent. */
const RESULTS: [keyof typeof OP_CODE, Record<string, unknown>][] = [
  ['getattr', { status: 0, attr: attr(2n ** 64n - 1n) }],
  ['getattr', { status: 0 }],
  ['setattr', { status: 0, after: attr(1n) }],
  ['lookup', { status: 0, fh: Buffer.from('0123456789abcdef0123'), attr: attr(7n), dirAttr: attr(8n) }],
  ['lookup', { status: 0, fh: Buffer.alloc(64, 9) }],
  ['access', { status: 0, attr: attr(9n), access: 0x3f }],
  ['readlink', { status: 0, target: Buffer.from('../somewhere/else') }],
  ['read', { status: 0, attr: attr(10n), count: 5, eof: true, data: Buffer.from('hello') }],
  ['read', { status: 0, count: 0, eof: false, data: Buffer.alloc(0) }],
  ['write', { status: 0, after: attr(11n), count: 131072, committed: 0, verf: 0xfedcba9876543210n }],
  ['create', { status: 0, fh: Buffer.from('fh-of-new'), attr: attr(12n), dirAfter: attr(13n) }],
  ['mkdir', { status: 0, fh: Buffer.from('dir') }],
  ['symlink', { status: 0 }],
  ['mknod', { status: 0, dirAfter: attr(14n) }],
  ['remove', { status: 0, dirAfter: attr(15n) }],
  ['rmdir', { status: 0 }],
  ['rename', { status: 0 }],
  ['link', { status: 0, attr: attr(16n) }],
  ['readdirplus', { status: 0, dirAttr: attr(17n), cookieverf: Buffer.alloc(8, 1), entries: [
    { fileid: 1n, name: '.', cookie: 1n, attr: attr(1n), fh: Buffer.from('dot') },
    { fileid: 2n, name: 'ünïcödé ✓', cookie: 2n ** 63n },
    { fileid: 3n, name: 'only-fh', cookie: 3n, fh: Buffer.from('fh3') },
  ], eof: true }],
  ['readdirplus', { status: 0, cookieverf: Buffer.alloc(8), entries: [], eof: false }],
  ['fsstat', { status: 0, attr: attr(18n), tbytes: 2 ** 50, fbytes: 1, abytes: 2, tfiles: 3, ffiles: 4, afiles: 5, invarsec: 0 }],
  ['fsinfo', { status: 0, rtmax: 1048576, rtpref: 1048576, rtmult: 4096, wtmax: 1048576, wtpref: 1048576, wtmult: 4096, dtpref: 65536, maxfilesize: 2 ** 53 - 1, timeDelta: { seconds: 0, nseconds: 1 }, properties: 27 }],
  ['pathconf', { status: 0, attr: attr(19n), linkmax: 32000, nameMax: 255, noTrunc: true, chownRestricted: true, caseInsensitive: false, casePreserving: true }],
  ['commit', { status: 0, verf: 42n }],
]

function writeAll(w: TapeWriter, moved: Uint8Array[]): void {
  RESULTS.forEach(([op, res], i) => w.write(1000 + i, OP_CODE[op], structuredClone(res), (d) => {
    const copy = new Uint8Array(d)
    moved.push(copy)
    return copy
  }))
}

function checkResults(seen: [number, unknown][]): void {
  assert.is(seen.length, RESULTS.length)
  seen.forEach(([id, res], i) => {
    assert.is(id, 1000 + i)
    assert.equal(res, RESULTS[i]![1], `${RESULTS[i]![0]} #${i}`)
    const r = res as Record<string, unknown>
    for (const k of ['fh', 'data', 'target', 'cookieverf']) if (k in r) assert.ok(Buffer.isBuffer(r[k]), `${k} is a Buffer`)
    for (const e of (r.entries ?? []) as { fh?: unknown }[]) if (e.fh !== undefined) assert.ok(Buffer.isBuffer(e.fh))
  })
}

test('every result shape survives the tape through the shared ring: same fields and values, absent stays absent, Buffers', async () => {
  const mem = createRingMemory()
  const writerRing = new TapeRing(mem)
  const w = new TapeWriter()
  const moved: Uint8Array[] = []
  writeAll(w, moved)
  const parts = w.finish(writerRing)
  assert.is(parts.tape, null, 'the tape went into the ring')
  assert.is(parts.bytes, null, 'so did the byte strings')
  const got = await across<TapeParts>(parts, TapeWriter.transferList(parts))
  for (const m of moved) assert.is(m.buffer.byteLength, 0, 'READ data was transferred, not copied')
  const seen: [number, unknown][] = []
  readTape(got, new TapeRing(mem), (id, res) => seen.push([id, res]))
  checkResults(seen)
})

test('a full ring: the tape travels in a transferred buffer of its own; the ring frees up as the reader catches up', async () => {
  const mem = createRingMemory()
  const writerRing = new TapeRing(mem)
  const readerRing = new TapeRing(mem)
  const w = new TapeWriter()
  const sent: TapeParts[] = []
  // The reader reads nothing meanwhile: messages pile up until the ring is full.
  for (let k = 0; k < 1000; k++) {
    writeAll(w, [])
    sent.push(w.finish(writerRing))
    if (sent.at(-1)!.tape !== null) break
  }
  const last = sent.at(-1)!
  assert.ok(last.tape !== null, 'the ring filled up')
  const got = await across<TapeParts>(last, TapeWriter.transferList(last))
  assert.is(last.tape!.byteLength, 0, 'the fallback tape was transferred')
  const seen: [number, unknown][] = []
  readTape(got, readerRing, (id, res) => seen.push([id, res]))
  checkResults(seen)
  // Reading the earlier messages (in order) gives the ring back.
  for (const p of sent.slice(0, -1)) {
    const s2: [number, unknown][] = []
    readTape(p, readerRing, (id, res) => s2.push([id, res]))
    checkResults(s2)
  }
  writeAll(w, [])
  assert.is(w.finish(writerRing).tape, null, 'room in the ring again')
})

test('every procedure has a result schema', () => {
  assert.is(SCHEMAS.length, Object.keys(OP_CODE).length)
})

test('BytePacker: small byte strings of a message move in one ArrayBuffer, each replaced by its view', async () => {
  const packer = new BytePacker()
  const pooled = [Buffer.from('handle-one'), Buffer.from('h2'), Buffer.from('third handle')]
  assert.is(pooled[0]!.buffer.byteLength, 8192, 'Node pooled these small Buffers in its 8 KiB slab')
  const call: unknown[] = [1, 2, 3, pooled[0], 'name', pooled[1]]
  const how = { mode: 2, verf: pooled[2] }
  packer.add(call, 3, pooled[0]!)
  packer.add(call, 5, pooled[1]!)
  packer.add(how, 'verf', pooled[2]!)
  const arena = packer.finish()!
  assert.is(arena.byteLength, 10 + 2 + 12, 'exactly the bytes, not three 8 KiB slabs')
  const [c, h] = await across([call, how], [arena])
  assert.is(arena.byteLength, 0, 'transferred')
  assert.is(Buffer.from((c as Uint8Array[])[3]!).toString(), 'handle-one')
  assert.is(Buffer.from((c as Uint8Array[])[5]!).toString(), 'h2')
  assert.is(Buffer.from((h as { verf: Uint8Array }).verf).toString(), 'third handle')
  assert.is(packer.finish(), null, 'nothing left to pack')
})

test.run()

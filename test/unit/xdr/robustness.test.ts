// Malformed replies: truncation at every offset, random and bit-flipped messages, absurd lengths and
// counts, oversize input. The only acceptable outcomes are a decoded value or XdrDecodeError; never a
// WebAssembly.RuntimeError, a RangeError, a hang or a huge allocation.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { XdrCodec, XdrDecodeError } from '../../../src/xdr/index.js'
import { REPLY_VECTORS, decodeWith, wire, type DecodeMethod } from '../../vectors/index.js'
import { GETATTR_REPLY, READDIRPLUS_REPLY, READ_REPLY, FATTR_FILE } from '../../vectors/nfs3.js'
import { Rng } from './helpers.js'

const codec = XdrCodec.load()

const METHODS: DecodeMethod[] = [
  'decodeVoid', 'decodeGetport', 'decodeMnt', 'decodeGetattr', 'decodeSetattr', 'decodeLookup', 'decodeAccess',
  'decodeReadlink', 'decodeRead', 'decodeWrite', 'decodeCreate', 'decodeRemove', 'decodeRename', 'decodeLink',
  'decodeReaddirplus', 'decodeFsstat', 'decodeFsinfo', 'decodePathconf', 'decodeCommit',
]

const MAP = { serverUid: 1000, serverGid: 100, localUid: 1, localGid: 2 }

/** Decodes and returns the XdrDecodeError it must throw. */
function decodeError(method: DecodeMethod, msg: Buffer): XdrDecodeError {
  try {
    decodeWith(codec, method, msg, MAP)
  } catch (err) {
    assert.instance(err, XdrDecodeError)
    const e = err as XdrDecodeError
    assert.is(e.code, 'ERR_XDR_DECODE')
    assert.is(e.name, 'XdrDecodeError')
    return e
  }
  assert.unreachable(`${method} accepted a malformed message: ${msg.toString('hex')}`)
  throw new Error('unreachable')
}

/** Decodes and accepts either a value or XdrDecodeError. */
function valueOrDecodeError(method: DecodeMethod, msg: Buffer): void {
  try {
    const d = decodeWith(codec, method, msg, MAP)
    assert.type(d.reply.kind, 'string')
  } catch (err) {
    if (!(err instanceof XdrDecodeError)) throw err
  }
}

/** Header of an accepted SUCCESS reply with an empty verifier. */
const OK_HEADER = '00000001' + '00000001' + '00000000' + '00000000' + '00000000' + '00000000'

test('every reply vector truncated at every offset is an XdrDecodeError', () => {
  let n = 0
  for (const v of REPLY_VECTORS) {
    for (let len = 0; len < v.wire.length; len++) {
      decodeError(v.decode, v.wire.subarray(0, len))
      n++
    }
  }
  assert.ok(n > 1000, `${n} prefixes`)
})

test('trailing bytes after a complete result are ignored', () => {
  for (const v of REPLY_VECTORS) {
    const longer = Buffer.concat([v.wire, Buffer.from('deadbeefdeadbeef', 'hex')])
    assert.equal(decodeWith(codec, v.decode, longer), v.expected, v.name)
  }
})

test('3000 random messages: a value or XdrDecodeError', () => {
  const r = new Rng(7)
  for (let i = 0; i < 3000; i++) {
    const body = r.bytes(r.int(600))
    // Half of them start with a valid accepted-reply header so the procedure decoders get exercised.
    const msg = r.bool() ? Buffer.concat([wire(OK_HEADER), body]) : body
    valueOrDecodeError(r.pick(METHODS), msg)
  }
})

test('3000 bit-flipped and word-smashed vectors: a value or XdrDecodeError', () => {
  const r = new Rng(8)
  for (let i = 0; i < 3000; i++) {
    const v = r.pick(REPLY_VECTORS)
    const msg = Buffer.from(v.wire)
    if (r.bool()) {
      for (let k = 1 + r.int(3); k > 0; k--) {
        const bit = r.int(msg.length * 8)
        msg[bit >> 3] = (msg[bit >> 3] as number) ^ (1 << (bit & 7))
      }
    } else {
      const at = r.int(msg.length >> 2) << 2
      msg.writeUInt32BE(r.pick([0, 1, 2, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff]), at)
    }
    valueOrDecodeError(r.bool(0.8) ? v.decode : r.pick(METHODS), msg)
  }
  // And the codec is still exact afterwards.
  assert.equal(codec.decodeReaddirplus(READDIRPLUS_REPLY.wire, null), READDIRPLUS_REPLY.expected)
})

test('absurd lengths and counts (0xffffffff) are refused quickly, each with its reason', () => {
  const cases: [string, DecodeMethod, string, string][] = [
    ['verifier length', 'decodeVoid', '00000001' + '00000001' + '00000000' + '00000000' + 'ffffffff', 'verifier-too-long'],
    ['LOOKUP fh length', 'decodeLookup', OK_HEADER + '00000000' + 'ffffffff', 'fh-too-long'],
    ['LOOKUP fh length 65', 'decodeLookup', OK_HEADER + '00000000' + '00000041' + '00'.repeat(68), 'fh-too-long'],
    ['MNT fh length', 'decodeMnt', OK_HEADER + '00000000' + 'ffffffff', 'fh-too-long'],
    ['MNT auth_flavors count', 'decodeMnt', OK_HEADER + '00000000' + '00000000' + 'ffffffff', 'too-many-flavors'],
    ['MNT auth_flavors count 65', 'decodeMnt', OK_HEADER + '00000000' + '00000000' + '00000041' + '00000001'.repeat(65), 'too-many-flavors'],
    ['READLINK path length', 'decodeReadlink', OK_HEADER + '00000000' + '00000000' + 'ffffffff', 'name-too-long'],
    ['READLINK path length 4097', 'decodeReadlink', OK_HEADER + '00000000' + '00000000' + '00001001' + '61'.repeat(4100), 'name-too-long'],
    ['READ data length', 'decodeRead', OK_HEADER + '00000000' + '00000000' + '00000010' + '00000000' + 'ffffffff', 'data-too-long'],
    ['READ data length one past the message', 'decodeRead', OK_HEADER + '00000000' + '00000000' + '00000004' + '00000000' + '00000005' + '61626364', 'data-too-long'],
    ['READDIRPLUS entry name length', 'decodeReaddirplus', OK_HEADER + '00000000' + '00000000' + '00'.repeat(8) + '00000001' + '00'.repeat(8) + 'ffffffff', 'name-too-long'],
    ['READDIRPLUS entry fh length', 'decodeReaddirplus', OK_HEADER + '00000000' + '00000000' + '00'.repeat(8) + '00000001' + '00'.repeat(8) + '00000000' + '00'.repeat(8) + '00000000' + '00000001' + 'ffffffff', 'fh-too-long'],
    ['GETATTR fattr3 cut short', 'decodeGetattr', OK_HEADER + '00000000' + '00000001', 'truncated'],
    ['attributes_follow = 2', 'decodeAccess', OK_HEADER + '00000000' + '00000002', 'bad-bool'],
    ['READDIRPLUS value_follows = 0xffffffff', 'decodeReaddirplus', OK_HEADER + '00000000' + '00000000' + '00'.repeat(8) + 'ffffffff', 'bad-bool'],
    ['msg_type CALL', 'decodeVoid', '00000001' + '00000000' + '00000002', 'not-a-reply'],
    ['reply_stat 2', 'decodeVoid', '00000001' + '00000001' + '00000002', 'bad-reply-stat'],
    ['accept_stat 6', 'decodeVoid', '00000001' + '00000001' + '00000000' + '00000000' + '00000000' + '00000006', 'bad-accept-stat'],
    ['reject_stat 2', 'decodeVoid', '00000001' + '00000001' + '00000001' + '00000002', 'bad-reject-stat'],
    ['empty message', 'decodeGetattr', '', 'truncated'],
  ]
  const t0 = performance.now()
  for (const [name, method, hex, reason] of cases) {
    assert.is(decodeError(method, wire(hex)).reason, reason, name)
  }
  // Generous bound for a noisy machine: the point is "no loop over a lying count".
  assert.ok(performance.now() - t0 < 500, 'refused quickly')
})

test('READ data of exactly the remaining bytes (with its pad) is accepted', () => {
  const msg = wire(OK_HEADER, '00000000', '00000000', '00000004', '00000001', '00000004', '61626364')
  assert.equal(codec.decodeRead(msg, null).res?.data, Buffer.from('abcd'))
})

test('oversize input is refused before it is copied', () => {
  const big = Buffer.alloc(1024 * 1024 + 64 * 1024 + 1)
  assert.is(decodeError('decodeGetattr', big).reason, 'too-large')
  assert.is(decodeError('decodeRead', big).reason, 'too-large')
})

test('a READ reply of exactly 1 MiB + 64 KiB is accepted, its data a view of the message', () => {
  const head = wire(OK_HEADER, '00000000', '00000000', '00000000', '00000001', '00000000')
  const n = 1024 * 1024 + 64 * 1024 - head.length
  const msg = Buffer.alloc(head.length + n, 0x5a)
  head.copy(msg)
  msg.writeUInt32BE(n, head.length - 12) // count
  msg.writeUInt32BE(n, head.length - 4) // data length
  const res = codec.decodeRead(msg, null).res
  assert.is(res?.data?.length, n)
  assert.is(res?.count, n)
  assert.is(res?.data?.buffer, msg.buffer)
})

test('a READDIRPLUS reply packed with minimal entries up to the size limit decodes every entry', () => {
  const head = wire(OK_HEADER, '00000000', '00000000', '0000000000000000')
  // Minimal entryplus3: value_follows, fileid, empty name, cookie, no attributes, no handle: 32 bytes.
  const entry = wire('00000001', '0000000000000007', '00000000', '0000000000000009', '00000000', '00000000')
  const n = Math.floor((1024 * 1024 + 64 * 1024 - head.length - 8) / entry.length)
  const msg = Buffer.concat([head, Buffer.concat(Array.from({ length: n }, () => entry)), wire('00000000', '00000001')])
  const t0 = performance.now()
  const res = codec.decodeReaddirplus(msg, null).res
  assert.is(res?.entries?.length, n)
  assert.equal(res?.entries?.[n - 1], { fileid: 7n, name: '', cookie: 9n })
  assert.ok(performance.now() - t0 < 2000)
})

test('a failure arm is validated too: a truncated NFS3ERR reply is malformed', () => {
  // GETATTR has a void failure arm, so its shortest error reply is complete; ACCESS carries post_op_attr.
  assert.equal(codec.decodeGetattr(wire(OK_HEADER, '00000046'), null).res, { status: 70 })
  assert.is(decodeError('decodeAccess', wire(OK_HEADER, '0000000d', '00000001', FATTR_FILE.slice(0, 40))).reason, 'truncated')
})

test('decoding still works after errors (no sticky state)', () => {
  decodeError('decodeRead', READ_REPLY.wire.subarray(0, 30))
  assert.equal(codec.decodeRead(READ_REPLY.wire, null), READ_REPLY.expected)
  decodeError('decodeGetattr', GETATTR_REPLY.wire.subarray(0, 50))
  assert.equal(codec.decodeGetattr(GETATTR_REPLY.wire, null), GETATTR_REPLY.expected)
})

test.run()

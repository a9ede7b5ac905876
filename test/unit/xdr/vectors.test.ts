// Hand-made RFC vectors (test/vectors): encoded calls must match byte for byte, replies must decode
// to the annotated `expected` values.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { XdrCodec } from '../../../src/xdr/index.js'
import { CALL_VECTORS, REPLY_VECTORS, decodeWith } from '../../vectors/index.js'
import { WRITE_HEADER_CALL } from '../../vectors/nfs3.js'

const codec = XdrCodec.load()

for (const v of CALL_VECTORS) {
  test(`encode: ${v.name}`, () => {
    const out = v.encode(codec, v.expected)
    assert.is(out.toString('hex'), v.wire.toString('hex'))
  })
}

for (const v of REPLY_VECTORS) {
  test(`decode: ${v.name}`, () => {
    assert.equal(decodeWith(codec, v.decode, v.wire), v.expected)
  })
}

test('encode: the record mark of every call counts the bytes that follow it (one last fragment)', () => {
  for (const v of CALL_VECTORS) {
    if (v === (WRITE_HEADER_CALL as unknown)) continue
    const out = v.encode(codec, v.expected)
    assert.is(out.readUInt32BE(0), (0x80000000 | (out.length - 4)) >>> 0, v.name)
  }
})

test('encode: WRITE header record mark = header + data + pad, and the header ends at the data length', () => {
  for (const n of [0, 1, 2, 3, 4, 5, 4096, 65537]) {
    const out = codec.writeHeader(9, null, Buffer.alloc(8), 0, n, 0, n)
    const pad = (4 - (n % 4)) % 4
    assert.is(out.readUInt32BE(0), (0x80000000 | (out.length - 4 + n + pad)) >>> 0, `n=${n}`)
    assert.is(out.readUInt32BE(out.length - 4), n, `data length n=${n}`)
  }
})

test('decode: READ data is a zero-copy view of the message', () => {
  const v = REPLY_VECTORS.find((x) => x.decode === 'decodeRead')
  assert.ok(v)
  const msg = Buffer.from(v.wire)
  const r = codec.decodeRead(msg, null)
  assert.ok(r.res?.data)
  assert.is(r.res.data.buffer, msg.buffer)
  msg[msg.length - 8] = 0x48 // 'h' -> 'H' in the message shows through the result
  assert.is(r.res.data.toString(), 'Hello')
})

test('decode: handles in results are copies the caller owns', () => {
  const v = REPLY_VECTORS.find((x) => x.decode === 'decodeLookup' && x.name.includes('handle'))
  assert.ok(v)
  const msg = Buffer.from(v.wire)
  const r = codec.decodeLookup(msg, null)
  const before = r.res?.fh?.toString('hex')
  msg.fill(0xee)
  assert.is(r.res?.fh?.toString('hex'), before)
})

test('encode: returned calls are fresh buffers that later calls do not overwrite', () => {
  const a = codec.getattr(1, null, Buffer.from('aa', 'hex'))
  const snapshot = Buffer.from(a)
  codec.getattr(2, null, Buffer.from('bb', 'hex'))
  assert.equal(a, snapshot)
})

test.run()

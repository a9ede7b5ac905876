import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecordReader, RecordError, LAST_FRAGMENT } from '../../../src/rpc/record.js'

function frag(data: Buffer, last: boolean): Buffer {
  const h = Buffer.alloc(4)
  h.writeUInt32BE(((last ? LAST_FRAGMENT : 0) | data.length) >>> 0)
  return Buffer.concat([h, data])
}

function collect(max = 1 << 20): { reader: RecordReader; records: Buffer[] } {
  const records: Buffer[] = []
  return { reader: new RecordReader(max, (r) => records.push(Buffer.from(r))), records }
}

const a = Buffer.from('first record payload!')
const b = Buffer.from('second')
const c1 = Buffer.from('multi-')
const c2 = Buffer.from('fragment ')
const c3 = Buffer.from('record')
const stream = Buffer.concat([frag(a, true), frag(b, true), frag(c1, false), frag(c2, false), frag(c3, true), frag(Buffer.alloc(0), true)])
const expected = [a, b, Buffer.concat([c1, c2, c3]), Buffer.alloc(0)]

test('several records in one chunk, including a multi-fragment and an empty one', () => {
  const { reader, records } = collect()
  reader.push(stream)
  assert.equal(records, expected)
  assert.is(reader.midRecord, false)
})

test('the stream split at every offset gives the same records', () => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const { reader, records } = collect()
    reader.push(stream.subarray(0, cut))
    reader.push(stream.subarray(cut))
    assert.equal(records, expected, `cut at ${cut}`)
  }
})

test('byte-by-byte delivery, headers split across reads', () => {
  const { reader, records } = collect()
  for (let i = 0; i < stream.length; i++) reader.push(stream.subarray(i, i + 1))
  assert.equal(records, expected)
})

test('a record over the cap is refused, also when built from small fragments', () => {
  const { reader } = collect(16)
  assert.throws(() => reader.push(frag(Buffer.alloc(17), true)), (e: unknown) => e instanceof RecordError)
  const r2 = collect(16).reader
  r2.push(frag(Buffer.alloc(10), false))
  assert.throws(() => r2.push(frag(Buffer.alloc(10), true)), (e: unknown) => e instanceof RecordError)
})

test('a header announcing 2 GiB is refused before any allocation', () => {
  const { reader } = collect(1 << 20)
  const h = Buffer.from([0xff, 0xff, 0xff, 0xff])
  assert.throws(() => reader.push(h), (e: unknown) => e instanceof RecordError)
})

test('midRecord reports a torn record', () => {
  const { reader } = collect()
  reader.push(stream.subarray(0, 6))
  assert.is(reader.midRecord, true)
})

test.run()

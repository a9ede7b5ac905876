// RecordReader (src/rpc/record.ts, RFC 5531 §11 record marking) throughput, side by side with
// @jsonjoy.com/json-pack's RmRecordDecoder on the same byte streams:
// - 1 MiB records delivered in 64 KiB chunks (a record spans 17 chunks: concatenation path);
// - READ-sized records (64 KiB of data + 128 bytes of headers) in 64 KiB chunks, what a socket
//   hands over during a sequential read (no record fits a chunk: concatenation path);
// - 1000 small records (128 bytes, GETATTR-reply sized) in one chunk (zero-copy fast path).
// One operation pushes the whole stream and receives every record in it.
//
// Run: npx tsx bench/micro/rpc/record.bench.ts
import { RmRecordDecoder } from '@jsonjoy.com/json-pack/lib/rm/RmRecordDecoder.js'
import { RecordReader } from '../../../src/rpc/record.js'
import { printComparison, runCases, type Case } from '../../lib/side-by-side.js'

const KiB = 1024
const MiB = 1024 * KiB
const MAX_RECORD = 2 * MiB

/** COUNT single-fragment records of SIZE bytes, concatenated, cut into CHUNK-byte pieces (the last may be shorter). */
function stream(count: number, size: number, chunk: number): Buffer[] {
  const all = Buffer.alloc(count * (4 + size))
  for (let i = 0; i < count; i++) {
    const at = i * (4 + size)
    all.writeUInt32BE((0x80000000 | size) >>> 0, at)
    all.fill(i & 0xff, at + 4, at + 4 + size)
  }
  const chunks: Buffer[] = []
  for (let at = 0; at < all.length; at += chunk) chunks.push(all.subarray(at, Math.min(all.length, at + chunk)))
  return chunks
}

let sink: unknown
let got = 0

function ours(chunks: Buffer[]): () => void {
  const reader = new RecordReader(MAX_RECORD, (rec) => {
    sink = rec
    got++
  })
  return () => {
    for (const c of chunks) reader.push(c)
  }
}

function theirs(chunks: Buffer[]): () => void {
  const dec = new RmRecordDecoder()
  return () => {
    for (const c of chunks) {
      dec.push(c)
      for (let r = dec.readRecord(); r !== undefined; r = dec.readRecord()) {
        sink = r
        got++
      }
    }
  }
}

interface Scenario {
  name: string
  count: number
  size: number
  chunk: number
  units: Case['units']
}

const scenarios: Scenario[] = [
  { name: '1 MiB records, 64 KiB chunks', count: 4, size: MiB, chunk: 64 * KiB, units: { per: 4, unit: 'GiB', scale: 1 / 1024 } },
  {
    name: 'READ replies (64 KiB + 128 B), 64 KiB chunks',
    count: 16,
    size: 64 * KiB + 128,
    chunk: 64 * KiB,
    units: { per: (16 * (64 * KiB + 128)) / MiB, unit: 'GiB', scale: 1 / 1024 },
  },
  { name: '1000 x 128 B records, one chunk', count: 1000, size: 128, chunk: Infinity, units: { per: 1000, unit: 'records' } },
]

const cases: Case[] = scenarios.map((s) => {
  const chunks = stream(s.count, s.size, s.chunk)
  // Both sides must see every record of the stream, or the comparison is moot.
  for (const [who, make] of [['ours', ours], ['json-pack', theirs]] as const) {
    got = 0
    make(chunks)()
    if (got !== s.count) throw new Error(`record bench: ${who} got ${got} of ${s.count} records in "${s.name}"`)
  }
  return {
    name: s.name,
    batch: 1,
    units: s.units,
    contenders: [
      { name: 'ours', fn: ours(chunks) },
      { name: 'json-pack RmRecordDecoder', fn: theirs(chunks) },
    ],
  }
})

const results = await runCases(cases, { rounds: 5, timeMs: 200 })
printComparison('rpc record marking: RecordReader (ours) vs json-pack RmRecordDecoder (theirs); one op = the whole stream', cases, results)
if (sink === undefined) process.stdout.write('\n')

// Truncated and garbled requests: each named case gets EINVAL or EIO without reaching the
// filesystem (or, too short to carry a unique, is dropped); random bytes never make it throw.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Session } from '../../../../src/fuse/kernel/session.js'
import * as abi from '../../../../src/fuse/kernel/abi.js'
import type { NodeOperations } from '../../../../src/fuse/node-operations.js'
import { bytes, name, outHeader, request, stat } from './wire.js'

const EINVAL = 22
const EIO = 5
const entry = { nodeid: 42, generation: 0, attr: stat, entryTimeout: 0, attrTimeout: 0 }

function make(): { s: Session; replies: Buffer[]; logs: string[]; feed(b: Buffer, n?: number): void } {
  const replies: Buffer[] = []
  const logs: string[] = []
  const ok = async (): Promise<never> => { throw new Error('filesystem called with a garbled request') }
  const fs = new Proxy({}, { get: (_t, p) => (p === 'init' || p === 'lockModes' ? undefined : p === 'forget' ? () => undefined : p === 'lookup' ? async () => entry : ok) }) as NodeOperations
  const s = new Session({ reply: (b, n) => { replies.push(Buffer.from(b.subarray(0, n))); return true }, notify: () => undefined }, fs, { log: (l) => logs.push(l) })
  const rbuf = Buffer.alloc(s.readBufferSize)
  const feed = (b: Buffer, n = b.length): void => { b.copy(rbuf); s.handle(rbuf, n) }
  feed(request(abi.FUSE_INIT, 2, 0, [['u32', 7], ['u32', 38], ['u32', 131072], ['u32', 0xffffffff], ['u32', 0], ['pad', 44]]))
  replies.length = 0
  return { s, replies, logs, feed }
}

test('a name without its NUL: EINVAL', () => {
  const h = make()
  h.feed(request(abi.FUSE_LOOKUP, 4, 1, [['str', 'abc']]))
  h.feed(request(abi.FUSE_RENAME, 6, 1, [['u64', 1], ...name('a'), ['str', 'b']]))
  h.feed(request(abi.FUSE_SYMLINK, 8, 1, name('only-one')))
  assert.equal(h.replies, [bytes(outHeader(16, -EINVAL, 4)), bytes(outHeader(16, -EINVAL, 6)), bytes(outHeader(16, -EINVAL, 8))])
})

test('arguments shorter than the struct: EINVAL', () => {
  const h = make()
  const short: [number, number][] = [
    [abi.FUSE_GETATTR, 8], [abi.FUSE_SETATTR, 40], [abi.FUSE_READ, 16], [abi.FUSE_WRITE, 24], [abi.FUSE_OPEN, 4],
    [abi.FUSE_CREATE, 8], [abi.FUSE_MKNOD, 8], [abi.FUSE_MKDIR, 4], [abi.FUSE_LINK, 4], [abi.FUSE_RENAME2, 8],
    [abi.FUSE_FLUSH, 8], [abi.FUSE_RELEASE, 8], [abi.FUSE_FSYNC, 8], [abi.FUSE_READDIRPLUS, 16], [abi.FUSE_ACCESS, 4],
  ]
  short.forEach(([op, n], i) => h.feed(request(op, 10 + 2 * i, 1, [['pad', n]])))
  assert.equal(h.replies, short.map((_, i) => bytes(outHeader(16, -EINVAL, 10 + 2 * i))))
})

test('a WRITE claiming more data than it carries: EINVAL', () => {
  const h = make()
  h.feed(request(abi.FUSE_WRITE, 4, 1, [['u64', 1], ['u64', 0], ['u32', 4096], ['u32', 0], ['u64', 0], ['u32', 0], ['u32', 0], ['str', 'short']]))
  assert.equal(h.replies, [bytes(outHeader(16, -EINVAL, 4))])
})

test('a header whose len differs from the bytes read: EIO; under 16 bytes: dropped with a log line', () => {
  const h = make()
  const r = request(abi.FUSE_LOOKUP, 4, 1, name('x'))
  h.feed(r, r.length - 1)
  assert.equal(h.replies, [bytes(outHeader(16, -EIO, 4))])
  h.feed(Buffer.alloc(10), 10)
  assert.is(h.replies.length, 1)
  assert.is(h.logs.length, 1)
})

test('a node id or handle beyond 2^53: EINVAL, never rounded to another node', () => {
  const h = make()
  h.feed(request(abi.FUSE_FLUSH, 4, 1, [['u64', 2n ** 60n], ['u64', 0], ['u64', 0]]))
  const r = request(abi.FUSE_LOOKUP, 6, 1, name('x'))
  r.writeBigUInt64LE(2n ** 62n, 16)
  h.feed(r)
  assert.equal(h.replies, [bytes(outHeader(16, -EINVAL, 4)), bytes(outHeader(16, -EINVAL, 6))])
})

test('random bytes: never a throw, at most one reply each, every reply a well-formed error or entry', async () => {
  const h = make()
  let seed = 12345
  const rand = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed }
  for (let i = 0; i < 3000; i++) {
    const n = 16 + (rand() % 200)
    const b = Buffer.alloc(n)
    for (let j = 0; j < n; j++) b[j] = rand() & 0xff
    if (i % 2 === 0) b.writeUInt32LE(n, 0) // half with a consistent length
    if (i % 3 === 0) b.writeUInt32LE(1 + (rand() % 52), 4) // a third with a real opcode
    b.writeUInt32LE(i * 2, 8)
    b.writeUInt32LE(0, 12)
    h.feed(b)
  }
  await new Promise((r) => setImmediate(r))
  const uniques = h.replies.map((r) => r.readUInt32LE(8))
  assert.is(new Set(uniques).size, uniques.length)
  for (const r of h.replies) {
    assert.is(r.readUInt32LE(0), r.length)
    assert.ok(r.readInt32LE(4) <= 0)
    if (r.readInt32LE(4) < 0) assert.is(r.length, 16)
  }
})

test.run()

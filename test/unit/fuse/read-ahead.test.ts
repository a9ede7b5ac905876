// ReadAhead against a scripted engine serving a known file: sequential readers are served from
// READs sent ahead, random readers get plain READs, EOF and failures behave, budgets hold.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ReadAhead, ReadAheadBudget, MAX_AHEAD } from '../../../src/fuse/read-ahead.js'
import type { Engine } from '../../../src/engine/index.js'

const cred = { auth: { stamp: 1, machine: 'm', uid: 1, gid: 1, gids: [1] }, map: null }
const FH = Buffer.from('fh')
const RSIZE = 1024 * 1024
const K128 = 128 * 1024

function file(size: number): Buffer {
  const b = Buffer.alloc(size)
  for (let i = 0; i + 4 <= size; i += 4) b.writeUInt32BE(i >>> 0, i)
  return b
}

function server(content: Buffer, failAt = new Set<number>()): { engine: Engine; reads: { offset: number; count: number }[] } {
  const reads: { offset: number; count: number }[] = []
  const engine = {
    read: async (_c: unknown, _fh: Buffer, offset: number, count: number) => {
      reads.push({ offset, count })
      if (failAt.has(offset)) {
        failAt.delete(offset)
        throw Object.assign(new Error('io'), { code: 'ERR_NFS3_STATUS', errno: 5 })
      }
      const data = content.subarray(offset, Math.min(content.length, offset + count))
      return { status: 0, count: data.length, eof: offset + data.length >= content.length, data }
    },
  } as unknown as Engine
  return { engine, reads }
}

async function readAll(ra: ReadAhead, size: number, step = K128): Promise<Buffer> {
  const out = Buffer.alloc(size)
  for (let off = 0; off < size; off += step) {
    const n = await ra.read(out.subarray(off), Math.min(step, size - off), off)
    assert.is(n, Math.min(step, size - off), `short read at ${off}`)
  }
  return out
}

test('a sequential reader gets exact data, mostly from rsize READs sent ahead', async () => {
  const content = file(20 * RSIZE + 12345)
  const s = server(content)
  const budget = new ReadAheadBudget()
  const ra = new ReadAhead(s.engine, cred, FH, RSIZE, budget)
  const out = await readAll(ra, content.length)
  assert.ok(out.equals(content))
  const big = s.reads.filter((r) => r.count === RSIZE).length
  assert.ok(big >= 18, `${big} rsize READs of ${s.reads.length}`)
  assert.ok(s.reads.length <= 26, `${s.reads.length} READs for ${content.length} bytes`)
  // Nothing beyond the end was asked for more than once, and the budget is given back.
  ra.drop()
  assert.is(budget.held, 0)
})

test('prefetching keeps several READs in flight ahead of the reader (latency hiding)', async () => {
  const content = file(32 * RSIZE)
  let inflight = 0
  let most = 0
  const engine = {
    read: async (_c: unknown, _fh: Buffer, offset: number, count: number) => {
      inflight++
      most = Math.max(most, inflight)
      await new Promise((r) => setTimeout(r, 5))
      inflight--
      const data = content.subarray(offset, offset + count)
      return { status: 0, count: data.length, eof: offset + data.length >= content.length, data }
    },
  } as unknown as Engine
  const ra = new ReadAhead(engine, cred, FH, RSIZE, new ReadAheadBudget())
  const out = await readAll(ra, content.length)
  assert.ok(out.equals(content))
  assert.ok(most >= MAX_AHEAD / RSIZE - 1, `at most ${most} READs in flight`)
})

test('random reads are plain READs of just what was asked (no prefetch)', async () => {
  const content = file(64 * RSIZE)
  const s = server(content)
  const ra = new ReadAhead(s.engine, cred, FH, RSIZE, new ReadAheadBudget())
  let x = 12345
  for (let i = 0; i < 200; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0
    const off = (x % (content.length / 4096)) * 4096
    const buf = Buffer.alloc(4096)
    assert.is(await ra.read(buf, 4096, off), 4096)
    assert.ok(buf.equals(content.subarray(off, off + 4096)))
  }
  assert.ok(s.reads.every((r) => r.count === 4096), 'prefetched for a random reader')
})

test('a failed prefetch is retried by a plain READ; its error reaches the reader only if that fails too', async () => {
  const content = file(8 * RSIZE)
  const s = server(content, new Set([3 * RSIZE]))
  const ra = new ReadAhead(s.engine, cred, FH, RSIZE, new ReadAheadBudget())
  assert.ok((await readAll(ra, content.length)).equals(content))
})

test('the mount-wide budget caps what all readers prefetch', async () => {
  const content = file(16 * RSIZE)
  const budget = new ReadAheadBudget(2 * RSIZE)
  const s = server(content)
  const readers = [0, 1, 2].map(() => new ReadAhead(s.engine, cred, FH, RSIZE, budget))
  let peak = 0
  const out = [Buffer.alloc(content.length), Buffer.alloc(content.length), Buffer.alloc(content.length)]
  for (let off = 0; off < content.length; off += K128) {
    for (const [i, ra] of readers.entries()) {
      await ra.read(out[i]!.subarray(off), K128, off)
      peak = Math.max(peak, budget.held)
    }
  }
  assert.ok(peak <= 2 * RSIZE, `held ${peak}`)
  for (const o of out) assert.ok(o.equals(content))
})

test('the kernel\'s readahead batches arrive concurrently and out of order: still one stream, served from the window', async () => {
  // 1 MiB of kernel readahead = 8 requests of 128 KiB at once, handed over in a shuffled order.
  const content = file(32 * RSIZE)
  const s = server(content)
  const ra = new ReadAhead(s.engine, cred, FH, RSIZE, new ReadAheadBudget())
  const out = Buffer.alloc(content.length)
  let x = 99
  for (let batch = 0; batch < content.length; batch += RSIZE) {
    const offs = Array.from({ length: RSIZE / K128 }, (_, i) => batch + i * K128)
    for (let i = offs.length - 1; i > 0; i--) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0
      const j = x % (i + 1);
      [offs[i], offs[j]] = [offs[j]!, offs[i]!]
    }
    const n = await Promise.all(offs.map((off) => ra.read(out.subarray(off, off + K128), K128, off)))
    assert.ok(n.every((k) => k === K128))
  }
  assert.ok(out.equals(content))
  // Each byte fetched about once: mostly rsize READs ahead, few plain 128 KiB ones.
  const fetched = s.reads.reduce((a, r) => a + r.count, 0)
  assert.ok(fetched <= content.length + MAX_AHEAD + 4 * RSIZE, `${fetched} bytes fetched for ${content.length}`)
  assert.ok(s.reads.filter((r) => r.count === RSIZE).length >= 28, `${s.reads.length} READs`)
})

test.run()

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

// A file that changes under the reader: its content and change attributes, and READs that can be
// held back so that a change lands between a prefetch and the read it serves.
interface MutableFile {
  content: Buffer
  ctime: number
  engine: Engine
  reads: { offset: number; count: number }[]
  /** While set, READs wait until release() before they answer (with the content at answer time). */
  hold: boolean
  release(): void
}

function mutableFile(content: Buffer): MutableFile {
  const waiting: (() => void)[] = []
  const f: MutableFile = {
    content,
    ctime: 1,
    reads: [],
    hold: false,
    release: () => { for (const w of waiting.splice(0)) w() },
    engine: {
      read: async (_c: unknown, _fh: Buffer, offset: number, count: number) => {
        f.reads.push({ offset, count })
        if (f.hold) await new Promise<void>((r) => waiting.push(r))
        const data = Buffer.from(f.content.subarray(Math.min(offset, f.content.length), Math.min(f.content.length, offset + count)))
        const attr = { size: f.content.length, ctime: { seconds: f.ctime, nseconds: 0 } }
        return { status: 0, attr, count: data.length, eof: offset + data.length >= f.content.length, data }
      },
    } as unknown as Engine,
  }
  return f
}

/** A reader two requests into a stream, so that the next read prefetches. */
async function streaming(ra: ReadAhead, f: MutableFile): Promise<void> {
  for (const off of [0, K128]) {
    const b = Buffer.alloc(K128)
    assert.is(await ra.read(b, K128, off), K128)
    assert.ok(b.equals(f.content.subarray(off, off + K128)))
  }
}

test('a short chunk serves only the bytes it holds: past them the server is asked (issue 13: RangeError in #serve)', async () => {
  // Prefetched while the file ended inside the chunk; then the file grew (a write through another
  // mount, or one the kernel knows of): the kernel reads past the chunk's data.
  const f = mutableFile(file(RSIZE + 563176))
  const ra = new ReadAhead(f.engine, cred, FH, RSIZE, new ReadAheadBudget())
  await streaming(ra, f)
  const mid = Buffer.alloc(K128)
  assert.is(await ra.read(mid, K128, 2 * K128), K128)
  assert.ok(f.reads.some((r) => r.offset === RSIZE && r.count === RSIZE), 'the second chunk was prefetched')
  f.content = file(2 * RSIZE)
  f.ctime++
  const at = RSIZE + 811008
  const out = Buffer.alloc(K128)
  assert.is(await ra.read(out, K128, at), K128)
  assert.ok(out.equals(f.content.subarray(at, at + K128)))
})

test('the file shrinks between a prefetch and the read: nothing of the old data is served', async () => {
  const f = mutableFile(file(4 * RSIZE))
  const ra = new ReadAhead(f.engine, cred, FH, RSIZE, new ReadAheadBudget())
  await streaming(ra, f)
  await ra.read(Buffer.alloc(K128), K128, 2 * K128)
  // ftruncate to 300 KiB, then up to 4 MiB again: the file is zeros past 300 KiB.
  const size = 300 * 1024
  f.content = Buffer.concat([f.content.subarray(0, size), Buffer.alloc(4 * RSIZE - size)])
  f.ctime++
  ra.drop()
  for (let off = 3 * K128; off < 2 * RSIZE; off += K128) {
    const b = Buffer.alloc(K128)
    assert.is(await ra.read(b, K128, off), K128)
    assert.ok(b.equals(f.content.subarray(off, off + K128)), `stale data at ${off}`)
  }
})

test('a chunk dropped while its READ is in flight is not served to the read waiting on it', async () => {
  const f = mutableFile(file(4 * RSIZE))
  const ra = new ReadAhead(f.engine, cred, FH, RSIZE, new ReadAheadBudget())
  await streaming(ra, f)
  f.hold = true
  // Prefetches [1 MiB, 3 MiB) and waits on the first chunk (held back).
  const b = Buffer.alloc(K128)
  const pending = ra.read(b, K128, 2 * K128)
  await new Promise((r) => setImmediate(r))
  // Meanwhile the file is truncated to 200 KiB (the change is sent, then answered).
  f.content = f.content.subarray(0, 200 * 1024)
  f.ctime++
  ra.drop()
  f.hold = false
  f.release()
  const n = await pending
  assert.is(n, 200 * 1024 - 2 * K128 > 0 ? 200 * 1024 - 2 * K128 : 0)
  assert.ok(b.subarray(0, n).equals(f.content.subarray(2 * K128)))
})

test('a newer change attribute in a READ reply drops what was prefetched of the older version', async () => {
  const f = mutableFile(file(8 * RSIZE))
  const ra = new ReadAhead(f.engine, cred, FH, RSIZE, new ReadAheadBudget())
  await streaming(ra, f)
  for (let off = 2 * K128; off < RSIZE; off += K128) await ra.read(Buffer.alloc(K128), K128, off)
  // Another client rewrites the file; this mount learns of it from a reply's attributes.
  f.content = Buffer.alloc(8 * RSIZE, 0x5a)
  f.ctime++
  ra.observe({ size: f.content.length, ctime: { seconds: f.ctime, nseconds: 0 } } as never)
  for (let off = RSIZE; off < 3 * RSIZE; off += K128) {
    const b = Buffer.alloc(K128)
    assert.is(await ra.read(b, K128, off), K128)
    assert.ok(b.equals(f.content.subarray(off, off + K128)), `old version served at ${off}`)
  }
})

test('the kernel\'s last read of a file (ending in the page that holds EOF) is answered from the chunk, with no extra READ', async () => {
  const size = RSIZE + 5000
  const f = mutableFile(file(size))
  const ra = new ReadAhead(f.engine, cred, FH, RSIZE, new ReadAheadBudget())
  const out = Buffer.alloc(2 * RSIZE)
  let off = 0
  for (; off + K128 <= size; off += K128) assert.is(await ra.read(out.subarray(off), K128, off), K128)
  const before = f.reads.length
  const tail = Math.ceil(size / 4096) * 4096 - off
  assert.is(await ra.read(out.subarray(off), tail, off), size - off)
  assert.is(f.reads.length, before, 'a READ past EOF was sent')
  assert.ok(out.subarray(0, size).equals(f.content))
})

test.run()

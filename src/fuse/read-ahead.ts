// Readahead for one open file: sequential readers get their data from READs sent before they ask.
//
//   kernel read(offset, 128 KiB)
//     │ inside the window? ──yes──► copy from the chunks (waiting for one still in flight)
//     │ no: plain READs, as without readahead; a jump elsewhere drops the window
//     ▼
//   reader sequential (SEQUENTIAL_AFTER reads in a row)? keep READs of rsize in flight up to
//   `ahead` bytes past it: 2 x rsize at first, MAX_AHEAD once the streak is long.
//
//     window: [chunk rsize][chunk rsize][chunk rsize] ... (in flight or arrived; in file order)
//              ^ reader                          ^ reader + ahead
//
// Chunks the reader has passed are dropped; all chunks of a mount together stay under the
// ReadAheadBudget. Without readahead every 128 KiB request of the kernel waits a whole round trip,
// which is what capped a single sequential reader (and, with network delay, made it crawl).
import type { Engine } from '../engine/index.js'
import type { CallCredential } from '../proto/nfs3/index.js'

/** Bytes kept in flight or arrived ahead of one reader: 8 MiB covers a 10 ms round trip at 800 MB/s. */
export const MAX_AHEAD = 8 * 1024 * 1024
/** Reads in a row at the expected offset before prefetching starts (one read is not a pattern). */
const SEQUENTIAL_AFTER = 2
/**
 * How far a read may land from the furthest one so far and still belong to the same stream: 16
 * requests of its size, at least 256 KiB, at most REORDER_SLACK. The kernel sends its readahead as
 * several 128 KiB requests at once (up to the mount's read_ahead_kb), and libfuse's threads hand
 * them over in any order, so a reader going forward looks like small jumps both ways; small reads
 * (O_DIRECT, 4 KiB) get a narrow band, so random ones are not mistaken for a stream.
 */
const REORDER_SLACK = 2 * 1024 * 1024
const MIN_SLACK = 256 * 1024
/** Chunks are kept this far behind the furthest read: its siblings from the same batch may still come. */
const KEEP_BEHIND = REORDER_SLACK

/** Readahead bytes of all open files of a mount; past `limit` nothing more is prefetched. */
export class ReadAheadBudget {
  held = 0
  constructor(readonly limit = 64 * 1024 * 1024) {}
}

interface Chunk {
  offset: number
  length: number
  data?: Buffer
  failed?: boolean
  done: Promise<void>
}

export class ReadAhead {
  readonly #engine: Engine
  readonly #cred: CallCredential
  readonly #fh: Buffer
  readonly #rsize: number
  readonly #budget: ReadAheadBudget
  #chunks: Chunk[] = []
  #expected = -1
  #streak = 0
  /** Where the server said the file ends (a READ with eof, or short); prefetching stops there. */
  #eofAt = Infinity
  /** Bumped by drop(): a READ sent before then says nothing about the file now. */
  #generation = 0

  constructor(engine: Engine, cred: CallCredential, fh: Buffer, rsize: number, budget: ReadAheadBudget) {
    this.#engine = engine
    this.#cred = cred
    this.#fh = fh
    this.#rsize = rsize
    this.#budget = budget
  }

  /** Reads up to `length` bytes at `offset` into `into`; loops over short reads until EOF. */
  async read(into: Buffer, length: number, offset: number): Promise<number> {
    const slack = Math.min(REORDER_SLACK, Math.max(16 * length, MIN_SLACK))
    const inStream = this.#expected >= 0 && Math.abs(offset - this.#expected) <= slack
    if (inStream || this.#covers(offset)) {
      this.#streak++
      this.#expected = Math.max(this.#expected, offset + length)
    } else {
      this.#streak = 0
      this.drop()
      this.#expected = offset + length
    }
    if (this.#streak >= SEQUENTIAL_AFTER) this.#fill(this.#expected)
    const n = this.#covers(offset) ? await this.#serve(into, length, offset) : await this.#direct(into, 0, length, offset)
    this.#release(this.#expected - KEEP_BEHIND)
    return n
  }

  /** Forgets every chunk (the file was written, truncated or is closed). */
  drop(): void {
    for (const c of this.#chunks) this.#budget.held -= c.length
    this.#chunks = []
    this.#eofAt = Infinity
    this.#generation++
  }

  #covers(offset: number): boolean {
    const first = this.#chunks[0]
    const last = this.#chunks[this.#chunks.length - 1]
    return first !== undefined && last !== undefined && offset >= first.offset && offset < last.offset + last.length
  }

  /** Keeps READs in flight from the window's end up to `from` + ahead. */
  #fill(from: number): void {
    const ahead = this.#streak >= 4 * SEQUENTIAL_AFTER ? Math.max(MAX_AHEAD, 2 * this.#rsize) : 2 * this.#rsize
    const last = this.#chunks[this.#chunks.length - 1]
    let next = last !== undefined ? last.offset + last.length : from - (from % this.#rsize)
    while (next < from + ahead && next < this.#eofAt && this.#budget.held + this.#rsize <= this.#budget.limit) {
      this.#chunks.push(this.#prefetch(next))
      next += this.#rsize
    }
  }

  #prefetch(offset: number): Chunk {
    const c: Chunk = { offset, length: this.#rsize, done: Promise.resolve() }
    const generation = this.#generation
    this.#budget.held += c.length
    c.done = this.#engine.read(this.#cred, this.#fh, offset, this.#rsize).then((res) => {
      c.data = res.data!
      const short = res.eof || c.data.length < this.#rsize
      if (short && generation === this.#generation) this.#eofAt = Math.min(this.#eofAt, offset + c.data.length)
    }, () => {
      // Served by a plain READ instead, which reports the error if it happens again.
      c.failed = true
    })
    return c
  }

  /** Copies [offset, offset + length) from the window, with plain READs for what it lacks. */
  async #serve(into: Buffer, length: number, offset: number): Promise<number> {
    let done = 0
    for (const c of this.#chunks.slice()) {
      if (done === length) break
      const at = offset + done
      if (c.offset + c.length <= at) continue
      if (c.offset > at) break
      await c.done
      const data = c.data
      if (c.failed || data === undefined) return this.#direct(into, done, length, offset)
      const from = at - c.offset
      const n = Math.min(length - done, Math.max(0, data.length - from))
      data.copy(into, done, from, from + n)
      done += n
      // Short chunk: the file ends here (for now).
      if (from + n >= data.length && data.length < c.length) return done
    }
    return done < length ? this.#direct(into, done, length, offset) : done
  }

  /** Plain READs of rsize into into[done, length) for file range [offset + done, offset + length). */
  async #direct(into: Buffer, done: number, length: number, offset: number): Promise<number> {
    while (done < length) {
      const want = Math.min(this.#rsize, length - done)
      const res = await this.#engine.read(this.#cred, this.#fh, offset + done, want)
      const data = res.data!
      const n = Math.min(data.length, want)
      data.copy(into, done, 0, n)
      done += n
      if (offset + done > this.#eofAt) this.#eofAt = Infinity
      if (n === 0 || res.eof) break
    }
    return done
  }

  /** Drops the chunks wholly before `offset`: the reader has passed them (with some slack). */
  #release(offset: number): void {
    let i = 0
    while (i < this.#chunks.length && this.#chunks[i]!.offset + this.#chunks[i]!.length <= offset) {
      this.#budget.held -= this.#chunks[i]!.length
      i++
    }
    if (i > 0) this.#chunks = this.#chunks.slice(i)
  }
}

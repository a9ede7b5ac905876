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
import type { Fattr3 } from '../xdr/types.js'

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
  /** What was asked (rsize); `data` may hold less: the file ended, or the server answered short. */
  length: number
  data?: Buffer
  /** The server said the file ends at offset + data.length (as of this READ). */
  eof?: boolean
  /** The file's change attributes in the reply: which version of the file `data` is of. */
  version?: FileVersion
  failed?: boolean
  /** Out of the window: the file changed, or the reader passed it. A read waiting on it goes to the server. */
  dropped?: boolean
  done: Promise<void>
}

/** What tells one version of a file's data from another: its ctime, then its size (RFC 1813 §4.1 close-to-open). */
export interface FileVersion {
  ctimeSec: number
  ctimeNsec: number
  size: number
}

function versionOf(attr: Fattr3 | undefined): FileVersion | undefined {
  return attr === undefined ? undefined : { ctimeSec: attr.ctime.seconds, ctimeNsec: attr.ctime.nseconds, size: attr.size }
}

/** Negative when `a` predates `b`, 0 when the same version, positive when newer (ctime first; a size change alone counts as newer). */
function compareVersions(a: FileVersion, b: FileVersion): number {
  if (a.ctimeSec !== b.ctimeSec) return a.ctimeSec - b.ctimeSec
  if (a.ctimeNsec !== b.ctimeNsec) return a.ctimeNsec - b.ctimeNsec
  return a.size === b.size ? 0 : 1
}

/** The kernel reads whole pages: a request that ends in the page holding EOF is the last one of a file it knows the size of. */
const PAGE = 4096

export class ReadAhead {
  readonly #engine: Engine
  readonly #cred: CallCredential
  readonly #fh: Buffer
  readonly #rsize: number
  readonly #budget: ReadAheadBudget
  #chunks: Chunk[] = []
  #expected = -1
  #streak = 0
  /** Where the server said the file ends (a READ with eof); prefetching stops there. */
  #eofAt = Infinity
  /** The version of the file the chunks in the window hold (set by the first reply after a drop). */
  #version: FileVersion | undefined

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

  /**
   * Forgets every chunk, those still in flight too: the file was written, truncated or is closed.
   * A read already waiting on one of them asks the server instead.
   */
  drop(): void {
    for (const c of this.#chunks) this.#remove(c)
    this.#chunks = []
    this.#eofAt = Infinity
    this.#version = undefined
  }

  /**
   * The file's attributes as a reply just gave them: a version other than the window's (another
   * client changed the file) drops the window when it is newer.
   */
  observe(attr: Fattr3 | undefined): void {
    const v = versionOf(attr)
    if (v !== undefined && this.#version !== undefined && compareVersions(v, this.#version) > 0) this.drop()
  }

  #remove(c: Chunk): void {
    if (c.dropped) return
    c.dropped = true
    this.#budget.held -= c.length
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
    this.#budget.held += c.length
    c.done = this.#engine.read(this.#cred, this.#fh, offset, this.#rsize).then((res) => {
      if (c.dropped) return
      c.data = res.data!
      c.eof = res.eof === true
      c.version = versionOf(res.attr)
      if (!this.#admit(c)) return
      if (c.eof) this.#eofAt = Math.min(this.#eofAt, offset + c.data.length)
    }, () => {
      // Served by a plain READ instead, which reports the error if it happens again.
      c.failed = true
    })
    return c
  }

  /**
   * A chunk's reply against the window's version: the first one sets it; a newer one drops the
   * chunks of the older (another client changed the file between the READs); an older one is
   * itself dropped. Returns whether `c` stays.
   */
  #admit(c: Chunk): boolean {
    if (c.version === undefined) return true
    if (this.#version === undefined) {
      this.#version = c.version
      return true
    }
    const cmp = compareVersions(c.version, this.#version)
    if (cmp === 0) return true
    if (cmp < 0) {
      this.#remove(c)
      this.#chunks = this.#chunks.filter((o) => o !== c)
      return false
    }
    for (const other of this.#chunks) {
      if (other !== c && other.version !== undefined) this.#remove(other)
    }
    this.#chunks = this.#chunks.filter((o) => !o.dropped)
    this.#eofAt = Infinity
    this.#version = c.version
    return true
  }

  /**
   * Copies [offset, offset + length) from the window, with plain READs for what it lacks. A chunk
   * gives only the bytes it holds: past a short chunk's data the server is asked, unless it said
   * the file ends there and the request ends in the same page (the kernel's last read of a file
   * whose size it knows). A short answer there would make the kernel believe the file shrank.
   */
  async #serve(into: Buffer, length: number, offset: number): Promise<number> {
    let done = 0
    for (const c of this.#chunks.slice()) {
      if (done === length) break
      const at = offset + done
      if (c.offset + c.length <= at) continue
      if (c.offset > at) break
      await c.done
      const data = c.data
      if (c.failed || c.dropped || data === undefined) break
      const from = at - c.offset
      const n = Math.min(length - done, Math.max(0, data.length - from))
      if (n > 0) data.copy(into, done, from, from + n)
      done += n
      if (done < length && data.length < c.length) {
        const end = c.offset + data.length
        if (c.eof && offset + length <= Math.ceil(end / PAGE) * PAGE) return done
        break
      }
    }
    return done < length ? this.#direct(into, done, length, offset) : done
  }

  /** Plain READs of rsize into into[done, length) for file range [offset + done, offset + length). */
  async #direct(into: Buffer, done: number, length: number, offset: number): Promise<number> {
    while (done < length) {
      const want = Math.min(this.#rsize, length - done)
      const res = await this.#engine.read(this.#cred, this.#fh, offset + done, want)
      this.observe(res.attr)
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
      this.#remove(this.#chunks[i]!)
      i++
    }
    if (i > 0) this.#chunks = this.#chunks.slice(i)
  }
}

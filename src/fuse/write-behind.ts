// Write-behind for one open file (RFC 1813 §3.3.7 WRITE, §3.3.21 COMMIT).
//
//   write() ──copy──► #pending: one chunk being filled (sequential writes coalesce up to wsize)
//                        │ full, not contiguous, idle for IDLE_SEND_MS, or a flush
//                        ▼
//                     #inflight: WRITE UNSTABLE sent; many at once, bounded by DIRTY_LIMIT
//                        │ reply
//                        ▼
//                     #uncommitted: acknowledged, kept until a COMMIT says the server has them
//                        │ COMMIT_START in this file: a COMMIT goes out in the background and the
//                        │ writer goes on; it waits only at COMMIT_LIMIT, or when the mount's
//                        │ WriteBudget is full
//                        ▼
//   flush/fsync/release: send #pending, wait for #inflight, report a failure, COMMIT ──► verifier
//   equal to each chunk's: drop them; different: the server restarted and lost them, so they are
//   written again with FILE_SYNC.
//
// write() returns as soon as the data is copied (the kernel sends the next piece at once instead
// of waiting a round trip per 128 KiB). It waits only when DIRTY_LIMIT bytes of this file are not
// yet acknowledged, or when the mount's budget is full: an application that outruns the server is
// slowed down instead of growing memory. A WRITE that failed is kept and reported at the next
// write(), flush() or fsync(), as the kernel NFS client does: never dropped silently.
//
// Ordering: a chunk overlapping one still in flight waits for it (the server may apply two WRITEs
// in either order), and sending a chunk trims what it overwrites from #uncommitted, so a rewrite
// after a server restart never puts older data over newer.
import type { Engine } from '../engine/index.js'
import type { CallCredential } from '../proto/nfs3/index.js'
import { FILE_SYNC, UNSTABLE } from '../xdr/types.js'
import { EIO, FsError } from './errno.js'

/** Uncommitted bytes kept per open file before a write waits for a COMMIT. */
export const COMMIT_LIMIT = 32 * 1024 * 1024
/**
 * Uncommitted bytes at which a COMMIT starts while the writer goes on. The server flushes them to
 * disk meanwhile (a COMMIT of 16-32 MiB took tens of ms here); waiting for it in write(), as
 * before, stalled a 512 MiB copy 16 times.
 */
export const COMMIT_START = COMMIT_LIMIT / 2
/**
 * Bytes per file copied but not yet acknowledged. 8 MiB keeps 8 WRITEs of 1 MiB in flight, which
 * covers a 10 ms round trip at 800 MB/s (four times what one writer reaches here without delay);
 * more only grows memory.
 */
export const DIRTY_LIMIT = 8 * 1024 * 1024
/** A partly filled chunk is sent once no write has extended it for this long (longer than the gap between a busy writer's 128 KiB pieces on a loaded machine). */
const IDLE_SEND_MS = 5

/**
 * Bytes held by all open files of a mount (copied and not yet committed). Each file is bounded on
 * its own, but many files written at once would still add up; past `limit`, a writer commits
 * before it returns.
 *
 * The default, 48 MiB, comes from the daemon's resident size, target < 200 MiB for 1 GiB written
 * (test/integration/stalled-server.test.ts). Peak RSS measured here, 53 MiB idle: one writer
 * (32 MiB held) 150 MiB, or 92 MiB with an 8 MiB window: the chunks alive plus copies of earlier
 * windows not yet collected. With a 256 MiB budget, four parallel writers peaked at 249 MiB and
 * eight at 379 MiB; with 48 MiB at 166 and 174 MiB, and they finish as fast.
 */
export class WriteBudget {
  /** Copied and not yet committed (queued, in flight or acknowledged UNSTABLE). */
  held = 0
  /** Of `held`, what the server has not acknowledged yet (queued or in flight). */
  dirty = 0

  constructor(readonly limit = 48 * 1024 * 1024) {}
}

interface Chunk {
  offset: number
  /** Filled part: data.subarray(0, length) of a buffer from Engine.allocWriteBuffer. */
  data: Buffer
  length: number
  verf?: bigint
  /** The buffer is this chunk's alone (not a piece of a superseded chunk): it can be reused once done. */
  whole: boolean
}

export interface WriteBehindOptions {
  wsize: number
  /** Write-through: each write() waits for its WRITE reply (the `sync` mount option). */
  sync: boolean
  budget: WriteBudget
  /** Told how many chunks a COMMIT found lost and wrote again (the mount's counters). */
  onRewrite: (chunks: number) => void
  /** Told whenever a WRITE was answered (or failed): the file's size and times may have changed. */
  onWritten: () => void
}

export class WriteBehind {
  readonly #engine: Engine
  readonly #cred: CallCredential
  readonly #fh: Buffer
  readonly #opts: WriteBehindOptions
  #pending: Chunk | null = null
  #timer: NodeJS.Timeout | null = null
  readonly #inflight = new Map<Chunk, Promise<void>>()
  #dirtyBytes = 0
  #uncommitted: Chunk[] = []
  #uncommittedBytes = 0
  #committing: Promise<number> | null = null
  /** What the COMMIT in flight covers (trimmed, as #uncommitted, by writes sent meanwhile). */
  #committingBatch: Chunk[] = []
  #committingBytes = 0
  /** While a COMMIT rewrites lost chunks, new WRITEs wait (they could overlap them). */
  #rewriting: Promise<void> | null = null
  /** End of the last write: a write starting there is sequential and gets a whole wsize chunk. */
  #lastEnd = -1
  #error: Error | null = null
  readonly #waiters: (() => void)[] = []

  constructor(engine: Engine, cred: CallCredential, fh: Buffer, opts: WriteBehindOptions) {
    this.#engine = engine
    this.#cred = cred
    this.#fh = fh
    this.#opts = opts
  }

  /** Copied or in flight, not yet acknowledged. */
  get dirty(): boolean {
    return this.#pending !== null || this.#inflight.size > 0
  }

  /**
   * Takes a copy of `src` (the kernel's buffer, valid only until this returns its promise) for
   * `offset`. Resolves with src.length once the data is queued (write-through: once the server
   * acknowledged it); rejects with a failure of an earlier WRITE of this file not yet reported.
   */
  async write(src: Buffer, offset: number): Promise<number> {
    if (this.#error) throw this.#error
    let done = 0
    while (done < src.length) {
      let c = this.#pending
      if (c !== null && (c.offset + c.length !== offset + done || c.length === c.data.length)) {
        this.#sendPending()
        c = null
      }
      if (c === null) {
        const rest = src.length - done
        // Sequential data gets room to coalesce; a random write gets just what it needs.
        const size = offset + done === this.#lastEnd ? this.#opts.wsize : Math.min(rest, this.#opts.wsize)
        c = { offset: offset + done, data: this.#engine.allocWriteBuffer(size), length: 0, whole: true }
        this.#pending = c
      }
      const n = Math.min(src.length - done, c.data.length - c.length)
      src.copy(c.data, c.length, done, done + n)
      c.length += n
      done += n
      this.#dirtyBytes += n
      this.#opts.budget.held += n
      this.#opts.budget.dirty += n
      if (c.length === c.data.length) this.#sendPending()
    }
    this.#lastEnd = offset + src.length
    if (this.#opts.sync) {
      await this.drain()
      if (this.#error) throw this.#takeError()
      return src.length
    }
    if (this.#pending !== null) this.#armIdleSend()
    while (this.#dirtyBytes > DIRTY_LIMIT && this.#inflight.size > 0) await this.#progress()
    if (this.#uncommittedBytes >= COMMIT_START && this.#committing === null) this.#commitBehind()
    if (this.#uncommittedBytes + this.#committingBytes >= COMMIT_LIMIT || this.#opts.budget.held > this.#opts.budget.limit) {
      await this.drain()
      this.#opts.onRewrite(await this.commit())
    }
    if (this.#error) throw this.#error
    return src.length
  }

  /** Sends what is queued and waits until every WRITE of this file was answered. Never rejects. */
  async drain(): Promise<void> {
    this.#sendPending()
    while (this.#inflight.size > 0) await Promise.all(this.#inflight.values())
  }

  /**
   * flush/fsync/close: everything written so far on the server and committed. Rejects with the
   * first failure since the last report (once), or the COMMIT's.
   */
  async sync(): Promise<void> {
    await this.drain()
    if (this.#error) throw this.#takeError()
    this.#opts.onRewrite(await this.commit())
  }

  /** Forgets what could not be written or committed (the file is being released): frees its share of the budget. */
  discard(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#opts.budget.held -= this.#uncommittedBytes + (this.#pending?.length ?? 0)
    this.#opts.budget.dirty -= this.#pending?.length ?? 0
    this.#dirtyBytes -= this.#pending?.length ?? 0
    this.#pending = null
    this.#uncommitted = []
    this.#uncommittedBytes = 0
  }

  /**
   * COMMITs the acknowledged chunks. Resolves with the number of chunks written again (verifier
   * changed); rejects with the error that stopped it (the chunks stay queued for a retry).
   */
  async commit(): Promise<number> {
    while (this.#committing) await this.#committing.catch(() => undefined)
    if (this.#uncommitted.length === 0) return 0
    const run = this.#commitOnce()
    this.#committing = run
    try {
      return await run
    } finally {
      this.#committing = null
    }
  }

  /** A COMMIT the writer does not wait for; its failure is reported like a failed WRITE. */
  #commitBehind(): void {
    this.commit().then((n) => this.#opts.onRewrite(n), (err: Error) => { this.#error ??= err })
  }

  #takeError(): Error {
    const e = this.#error!
    this.#error = null
    return e
  }

  #armIdleSend(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#sendPending()
    }, IDLE_SEND_MS)
  }

  /** Resolves when some WRITE of this file is answered. */
  #progress(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  #sendPending(): void {
    const c = this.#pending
    if (c === null) return
    this.#pending = null
    if (this.#timer) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
    const done = this.#writeChunk(c).finally(() => {
      this.#inflight.delete(c)
      this.#dirtyBytes -= c.length
      this.#opts.budget.dirty -= c.length
      this.#opts.onWritten()
      for (const w of this.#waiters.splice(0)) w()
    })
    this.#inflight.set(c, done)
  }

  async #writeChunk(c: Chunk): Promise<void> {
    const start = c.offset
    const end = c.offset + c.length
    // The server may apply concurrent WRITEs in any order: an overlapping one goes first.
    const earlier = [...this.#inflight].filter(([o]) => o !== c && o.offset < end && start < o.offset + o.length).map(([, p]) => p)
    if (earlier.length > 0) await Promise.all(earlier)
    if (this.#rewriting) await this.#rewriting
    this.#supersede(start, end)
    try {
      let done = 0
      let verf: bigint | undefined
      let stable = true
      while (done < c.length) {
        const res = await this.#engine.write(this.#cred, this.#fh, c.offset + done, c.data.subarray(done, c.length), UNSTABLE)
        const n = res.count!
        if (n === 0 || n > c.length - done) throw new FsError(EIO, `server acknowledged ${n} of ${c.length - done} bytes`)
        if (res.committed !== FILE_SYNC) {
          stable = false
          // A short write resent after a restart could come back with another verifier: the
          // whole chunk is then rewritten at COMMIT, which is what a mismatch means anyway.
          verf = verf === undefined || verf === res.verf ? res.verf : -1n
        }
        done += n
      }
      if (stable) {
        this.#opts.budget.held -= c.length
        this.#recycle(c)
        return
      }
      c.verf = verf!
      this.#uncommitted.push(c)
      this.#uncommittedBytes += c.length
    } catch (err) {
      this.#opts.budget.held -= c.length
      this.#recycle(c)
      this.#error ??= err as Error
    }
  }

  /** Committed or failed for good: the engine reuses the memory (fresh memory costs page faults). */
  #recycle(c: Chunk): void {
    if (c.whole) this.#engine.releaseWriteBuffer(c.data)
  }

  /** [start, end) is being written anew: older acknowledged data there must never be rewritten over it. */
  #supersede(start: number, end: number): void {
    if (this.#uncommitted.length > 0) {
      const t = trim(this.#uncommitted, start, end)
      this.#uncommitted = t.kept
      this.#uncommittedBytes -= t.dropped
      this.#opts.budget.held -= t.dropped
    }
    if (this.#committingBatch.length > 0) {
      const t = trim(this.#committingBatch, start, end)
      this.#committingBatch = t.kept
      this.#committingBytes -= t.dropped
      this.#opts.budget.held -= t.dropped
    }
  }

  async #commitOnce(): Promise<number> {
    this.#committingBatch = this.#uncommitted
    this.#committingBytes = this.#uncommittedBytes
    this.#uncommitted = []
    this.#uncommittedBytes = 0
    try {
      const res = await this.#engine.commit(this.#cred, this.#fh, 0, 0)
      const lost = this.#committingBatch.filter((c) => c.verf !== res.verf)
      if (lost.length > 0) await this.#rewrite(lost)
      this.#opts.budget.held -= this.#committingBytes
      for (const c of this.#committingBatch) this.#recycle(c)
      return lost.length
    } catch (err) {
      this.#uncommitted = this.#committingBatch.concat(this.#uncommitted)
      this.#uncommittedBytes += this.#committingBytes
      throw err
    } finally {
      this.#committingBatch = []
      this.#committingBytes = 0
    }
  }

  /** The server restarted since these were acknowledged: write them again, durably, oldest first. */
  async #rewrite(lost: Chunk[]): Promise<void> {
    let release!: () => void
    this.#rewriting = new Promise((resolve) => { release = resolve })
    try {
      for (const c of lost) {
        let done = 0
        while (done < c.length) {
          const w = await this.#engine.write(this.#cred, this.#fh, c.offset + done, c.data.subarray(done, c.length), FILE_SYNC)
          if (!w.count) throw new FsError(EIO, 'server acknowledged 0 bytes on rewrite')
          done += w.count
        }
      }
    } finally {
      this.#rewriting = null
      release()
    }
  }
}

/** Cuts [start, end) out of acknowledged chunks: what is left of them, and how many bytes went. */
function trim(chunks: Chunk[], start: number, end: number): { kept: Chunk[]; dropped: number } {
  const kept: Chunk[] = []
  let dropped = 0
  for (const c of chunks) {
    const cEnd = c.offset + c.length
    if (cEnd <= start || c.offset >= end) {
      kept.push(c)
      continue
    }
    const before = Math.max(0, start - c.offset)
    const after = Math.max(0, cEnd - end)
    if (before > 0) kept.push({ offset: c.offset, data: c.data.subarray(0, before), length: before, verf: c.verf!, whole: false })
    if (after > 0) kept.push({ offset: end, data: c.data.subarray(c.length - after, c.length), length: after, verf: c.verf!, whole: false })
    dropped += c.length - before - after
  }
  return { kept, dropped }
}

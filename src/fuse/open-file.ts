// One open file: reads split to rsize, writes split to wsize, UNSTABLE writes tracked until
// a COMMIT makes them durable (RFC 1813 §3.3.7, §3.3.21).
//
//   write() ──► WRITE UNSTABLE ──► #uncommitted: [{offset, data, verf}]  (copies we own)
//                                        │ > WRITE_BEHIND_LIMIT bytes in this file, or
//                                        │ > WriteBudget.limit in all files: commit() first
//   flush/fsync/release ──► commit(): COMMIT ──► verf equal to each chunk's? drop the chunks
//                                               differs? the server restarted and lost them:
//                                               rewrite those chunks FILE_SYNC, then drop
//
// The window is bounded, so an application writing faster than the server answers is slowed
// down instead of growing our memory (backpressure).
import type { Engine } from '../engine/index.js'
import type { CallCredential } from '../proto/nfs3/index.js'
import { FILE_SYNC, UNSTABLE } from '../xdr/types.js'
import { EIO, FsError } from './errno.js'

/** Uncommitted bytes kept per open file before a write waits for a COMMIT. */
export const WRITE_BEHIND_LIMIT = 32 * 1024 * 1024

/**
 * Uncommitted bytes held by all open files of a mount. Each file is bounded on its own, but many
 * files written at once would still add up; past `limit`, a writer commits before it returns.
 *
 * The default, 48 MiB (one file's window and a half), comes from the daemon's resident size,
 * target < 200 MiB for 1 GiB written (test/integration/stalled-server.test.ts). Peak RSS
 * measured here, 53 MiB idle: one writer (32 MiB held) 150 MiB, or 92 MiB with an 8 MiB window:
 * the chunks alive plus copies of earlier windows not yet collected. With a 256 MiB budget,
 * four parallel writers (128 MiB held) peaked at 249 MiB and eight at 379 MiB; with 64 MiB at
 * 183 MiB, with 48 MiB at 166 and 174 MiB, and they finish as fast (5.5 s for 1 GiB; their
 * COMMITs cover 6-12 MiB instead of 32).
 */
export class WriteBudget {
  held = 0
  constructor(readonly limit = 48 * 1024 * 1024) {}
}

interface Chunk {
  offset: number
  data: Buffer
  verf: bigint
}

export class OpenFile {
  readonly fh: Buffer
  readonly cred: CallCredential
  readonly writable: boolean
  #uncommitted: Chunk[] = []
  #uncommittedBytes = 0
  #committing: Promise<number> | null = null

  /** Told how many chunks a COMMIT found lost and rewrote (for the mount's counters). */
  readonly onRewrite: (chunks: number) => void

  readonly #budget: WriteBudget

  constructor(fh: Buffer, cred: CallCredential, writable: boolean, onRewrite: (chunks: number) => void, budget = new WriteBudget()) {
    this.#budget = budget
    this.fh = fh
    this.cred = cred
    this.writable = writable
    this.onRewrite = onRewrite
  }

  /** COMMIT as commit(), reporting rewrites to onRewrite. */
  async sync(engine: Engine): Promise<void> {
    this.onRewrite(await this.commit(engine))
  }

  /** Reads up to `length` bytes at `offset` into `into`; loops over short reads until EOF. */
  async read(engine: Engine, rsize: number, into: Buffer, length: number, offset: number): Promise<number> {
    let done = 0
    while (done < length) {
      const want = Math.min(rsize, length - done)
      const res = await engine.read(this.cred, this.fh, offset + done, want)
      const data = res.data!
      const n = Math.min(data.length, want)
      data.copy(into, done, 0, n)
      done += n
      if (n === 0 || res.eof) break
    }
    return done
  }

  /** Writes all of `data` at `offset` (resending after short writes). Resolves with data.length. */
  async write(engine: Engine, wsize: number, data: Buffer, offset: number): Promise<number> {
    let done = 0
    while (done < data.length) {
      const piece = data.subarray(done, Math.min(data.length, done + wsize))
      const res = await engine.write(this.cred, this.fh, offset + done, piece, UNSTABLE)
      const n = res.count!
      if (n === 0 || n > piece.length) throw new FsError(EIO, `server acknowledged ${n} of ${piece.length} bytes`)
      if (res.committed !== FILE_SYNC) {
        this.#uncommitted.push({ offset: offset + done, data: piece.subarray(0, n), verf: res.verf! })
        this.#uncommittedBytes += n
        this.#budget.held += n
      }
      done += n
    }
    if (this.#uncommittedBytes > WRITE_BEHIND_LIMIT || this.#budget.held > this.#budget.limit) {
      this.onRewrite(await this.commit(engine))
    }
    return data.length
  }

  /** Forgets what could not be committed (the file is being released): frees its share of the budget. */
  discard(): void {
    this.#budget.held -= this.#uncommittedBytes
    this.#uncommitted = []
    this.#uncommittedBytes = 0
  }

  /**
   * Makes every acknowledged write durable. Resolves, with the number of chunks written again,
   * when COMMIT succeeded and any chunk the server lost (verifier changed) was rewritten with
   * FILE_SYNC; rejects with the error that stopped it (the chunks stay queued for a retry).
   */
  async commit(engine: Engine): Promise<number> {
    while (this.#committing) await this.#committing.catch(() => undefined)
    if (this.#uncommitted.length === 0) return 0
    const run = this.#commitOnce(engine)
    this.#committing = run
    try {
      return await run
    } finally {
      this.#committing = null
    }
  }

  async #commitOnce(engine: Engine): Promise<number> {
    const batch = this.#uncommitted
    const bytes = this.#uncommittedBytes
    this.#uncommitted = []
    this.#uncommittedBytes = 0
    try {
      const res = await engine.commit(this.cred, this.fh, 0, 0)
      let rewritten = 0
      for (const c of batch) {
        if (c.verf === res.verf) continue
        rewritten++
        let done = 0
        while (done < c.data.length) {
          const w = await engine.write(this.cred, this.fh, c.offset + done, c.data.subarray(done), FILE_SYNC)
          if (!w.count) throw new FsError(EIO, 'server acknowledged 0 bytes on rewrite')
          done += w.count
        }
      }
      this.#budget.held -= bytes
      // Durable now: the engine may reuse their memory (fresh memory costs page faults).
      for (const c of batch) engine.releaseWriteBuffer(c.data)
      return rewritten
    } catch (err) {
      this.#uncommitted = batch.concat(this.#uncommitted)
      this.#uncommittedBytes += bytes
      throw err
    }
  }
}

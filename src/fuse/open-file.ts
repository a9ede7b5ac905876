// One open file: what a kernel file handle stands for. Reads go through ReadAhead, writes through
// WriteBehind; both use the handle and the credential of whoever opened it.
import type { Engine } from '../engine/index.js'
import type { CallCredential } from '../proto/nfs3/index.js'
import type { Fattr3 } from '../xdr/types.js'
import { ReadAhead, type ReadAheadBudget } from './read-ahead.js'
import { WriteBehind, type WriteBudget } from './write-behind.js'

export interface OpenFileOptions {
  rsize: number
  wsize: number
  /** Write-through (the `sync` mount option). */
  sync: boolean
  writeBudget: WriteBudget
  readBudget: ReadAheadBudget
  /** Told how many chunks a COMMIT found lost and wrote again. */
  onRewrite: (chunks: number) => void
  /** Told whenever one of this file's WRITEs was answered (its size and times changed). */
  onWritten: () => void
}

export class OpenFile {
  readonly fh: Buffer
  readonly cred: CallCredential
  readonly writable: boolean
  readonly #reads: ReadAhead
  readonly #writes: WriteBehind

  constructor(engine: Engine, fh: Buffer, cred: CallCredential, writable: boolean, opts: OpenFileOptions) {
    this.fh = fh
    this.cred = cred
    this.writable = writable
    this.#reads = new ReadAhead(engine, cred, fh, opts.rsize, opts.readBudget)
    this.#writes = new WriteBehind(engine, cred, fh, {
      wsize: opts.wsize,
      sync: opts.sync,
      budget: opts.writeBudget,
      onRewrite: opts.onRewrite,
      onWritten: opts.onWritten,
    })
  }

  /** Written data not yet answered by the server. */
  get dirty(): boolean {
    return this.#writes.dirty
  }

  /** Reads what this file wrote too: its pending WRITEs go first. */
  async read(into: Buffer, length: number, offset: number): Promise<number> {
    if (this.#writes.dirty) await this.#writes.drain()
    return this.#reads.read(into, length, offset)
  }

  /** `src` is the kernel's buffer: copied before this returns its promise. */
  write(src: Buffer, offset: number): Promise<number> {
    this.#reads.drop()
    return this.#writes.write(src, offset)
  }

  /** Sends what is queued and waits for the answers (not a COMMIT). Never rejects. */
  drain(): Promise<void> {
    return this.#writes.drain()
  }

  /** flush/fsync: everything written is on the server and committed; reports a failed WRITE once. */
  sync(): Promise<void> {
    return this.#writes.sync()
  }

  /** Prefetched data may be stale (the file changed through another handle or its size was set). */
  dropReadAhead(): void {
    this.#reads.drop()
  }

  /** The file's attributes from a reply: prefetched data of an older version goes. */
  observe(attr: Fattr3 | undefined): void {
    this.#reads.observe(attr)
  }

  /** The file is being released: frees its budgets whatever could not be written. */
  discard(): void {
    this.#reads.drop()
    this.#writes.discard()
  }
}

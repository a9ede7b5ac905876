// Record marking on TCP, RFC 5531 §11.
//
// A record is one or more fragments; each fragment is a 4-byte header (bit 31: last fragment,
// bits 0..30: length) and its data. TCP delivers arbitrary slices of that stream, so a header
// can be split across reads and a record can span many reads or share one with the next.
// The reader bounds the whole record (not only each fragment) so that a hostile or broken peer
// cannot make us allocate without limit.

export const LAST_FRAGMENT = 0x80000000

/** Record exceeded the configured cap, or a fragment header was nonsensical. */
export class RecordError extends Error {
  readonly code = 'ERR_RPC_RECORD'
  readonly errno = 5 // EIO
  constructor(message: string) {
    super(message)
    this.name = 'RecordError'
  }
}

/**
 * Reassembles RPC records from TCP chunks. `push()` calls `onRecord` once per complete record,
 * synchronously, with a Buffer the callee may keep (a subarray of the chunk when the record
 * arrived whole in one chunk, a fresh concatenation otherwise). Throws RecordError when a
 * record would exceed `maxRecord` bytes; the stream is then unusable.
 */
export class RecordReader {
  readonly #maxRecord: number
  readonly #onRecord: (record: Buffer) => void
  // Partial fragment header bytes carried over from the previous chunk.
  #header = Buffer.alloc(4)
  #headerFill = 0
  // Bytes still expected for the current fragment, and whether it is the last one.
  #fragRemaining = 0
  #inFragment = false
  #lastFragment = false
  #parts: Buffer[] = []
  #recordSize = 0

  constructor(maxRecord: number, onRecord: (record: Buffer) => void) {
    this.#maxRecord = maxRecord
    this.#onRecord = onRecord
  }

  /** True while a record is partly received (used to tell a clean close from a torn one). */
  get midRecord(): boolean {
    return this.#inFragment || this.#headerFill > 0 || this.#parts.length > 0
  }

  push(chunk: Buffer): void {
    let pos = 0
    const end = chunk.length
    while (pos < end) {
      if (!this.#inFragment) {
        // Fast path: a whole single-fragment record inside this chunk, nothing pending.
        if (this.#headerFill === 0 && this.#parts.length === 0 && end - pos >= 4) {
          const h = chunk.readUInt32BE(pos)
          const len = h & 0x7fffffff
          this.#checkSize(len)
          if ((h & LAST_FRAGMENT) !== 0 && end - pos - 4 >= len) {
            this.#onRecord(chunk.subarray(pos + 4, pos + 4 + len))
            pos += 4 + len
            continue
          }
          this.#startFragment(h)
          pos += 4
          continue
        }
        const take = Math.min(4 - this.#headerFill, end - pos)
        chunk.copy(this.#header, this.#headerFill, pos, pos + take)
        this.#headerFill += take
        pos += take
        if (this.#headerFill < 4) return
        this.#headerFill = 0
        const h = this.#header.readUInt32BE(0)
        this.#checkSize(this.#recordSize + (h & 0x7fffffff))
        this.#startFragment(h)
        continue
      }
      const take = Math.min(this.#fragRemaining, end - pos)
      if (take > 0) {
        this.#parts.push(chunk.subarray(pos, pos + take))
        this.#recordSize += take
        this.#fragRemaining -= take
        pos += take
      }
      if (this.#fragRemaining === 0) this.#endFragment()
    }
  }

  #checkSize(size: number): void {
    if (size > this.#maxRecord) {
      throw new RecordError(`RPC record of ${size} bytes exceeds the ${this.#maxRecord}-byte limit`)
    }
  }

  #startFragment(h: number): void {
    this.#inFragment = true
    this.#lastFragment = (h & LAST_FRAGMENT) !== 0
    this.#fragRemaining = h & 0x7fffffff
    if (this.#fragRemaining === 0) this.#endFragment()
  }

  #endFragment(): void {
    this.#inFragment = false
    if (!this.#lastFragment) return
    const parts = this.#parts
    const record = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.#recordSize)
    this.#parts = []
    this.#recordSize = 0
    this.#onRecord(record)
  }
}

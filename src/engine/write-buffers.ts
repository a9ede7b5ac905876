// Buffers for WRITE data (Engine.allocWriteBuffer), reused once released.
//
// A 128 KiB buffer of fresh memory costs 30-200 us to fill here (page faults on first touch, and
// for buffers this large malloc maps and unmaps memory per allocation), against about 15 us to
// copy into memory touched before (measured on this 2-core machine, Node 20). So buffers the
// caller gives back are kept in a free list per size class and handed out again.
//
//   alloc(n) ─► free list of class(n) non-empty? reuse : allocate class(n) bytes
//               └─► a view of n bytes at offset 0 of that memory, remembered as live
//   release(b) ─► b is a whole live allocation (offset 0, its full length)? back to the free list
//                 (up to maxFreeBytes in all), anything else is left to the GC
//
// Shared (pooled engine): the memory is a SharedArrayBuffer, so posting the Buffer to a worker
// shares it instead of copying it; the main thread keeps its view for a possible rewrite.
// Ownership: between alloc and release the caller owns the buffer; release is a promise that no
// call in flight still uses it.

/** Smallest size class: one page. */
const MIN_CLASS = 4096
/** Largest pooled class (the largest wsize is 1 MiB; a kernel write is at most 128 KiB): above it, exact and never reused. */
const MAX_CLASS = 1024 * 1024
/**
 * Free memory kept for reuse: as much as a mount's writers may hold at once (the FUSE layer's
 * WriteBudget, 48 MiB), so a streaming writer reuses every chunk its COMMITs give back and memory
 * stops growing at what was held at the peak. With less, each COMMIT dropped some chunks and the
 * writer allocated as many anew: with a pooled engine 353 of 1128 WRITEs of a 1 GiB copy took fresh
 * shared memory, which lives until both threads collect it, and the daemon grew to 250 MiB.
 */
export const DEFAULT_MAX_FREE_BYTES = 48 * 1024 * 1024

export class WriteBufferPool {
  readonly #shared: boolean
  readonly #maxFree: number
  readonly #free = new Map<number, (ArrayBuffer | SharedArrayBuffer)[]>()
  /** Memory handed out and not yet released, with the length it was handed out as. */
  readonly #live = new WeakMap<ArrayBuffer | SharedArrayBuffer, number>()
  #freeBytes = 0
  #reused = 0

  constructor(shared: boolean, maxFreeBytes = DEFAULT_MAX_FREE_BYTES) {
    this.#shared = shared
    this.#maxFree = maxFreeBytes
  }

  /** A Buffer of `length` bytes (contents undefined) over memory of its own. */
  alloc(length: number): Buffer {
    const cls = sizeClass(length)
    let mem = cls === 0 ? undefined : this.#free.get(cls)?.pop()
    if (mem !== undefined) {
      this.#freeBytes -= cls
      this.#reused++
    } else {
      const size = cls === 0 ? length : cls
      mem = this.#shared ? new SharedArrayBuffer(size) : Buffer.allocUnsafeSlow(size).buffer
    }
    if (cls !== 0) this.#live.set(mem, length)
    return Buffer.from(mem as ArrayBuffer, 0, length)
  }

  /**
   * Takes back a buffer alloc() returned: the whole of it (a view of part of it is ignored, other
   * parts may still be in use), once. True when kept for reuse.
   */
  release(buf: Buffer): boolean {
    const mem = buf.buffer as ArrayBuffer | SharedArrayBuffer
    if (buf.byteOffset !== 0 || this.#live.get(mem) !== buf.length) return false
    this.#live.delete(mem)
    const cls = mem.byteLength
    if (this.#freeBytes + cls > this.#maxFree) return false
    let list = this.#free.get(cls)
    if (list === undefined) this.#free.set(cls, (list = []))
    list.push(mem)
    this.#freeBytes += cls
    return true
  }

  /** Bytes waiting in the free lists, and how many allocations were served from them. */
  stats(): { freeBytes: number; reused: number } {
    return { freeBytes: this.#freeBytes, reused: this.#reused }
  }
}

/** The power of two >= n within [MIN_CLASS, MAX_CLASS], or 0 for sizes that are not pooled. */
function sizeClass(n: number): number {
  if (n > MAX_CLASS) return 0
  let c = MIN_CLASS
  while (c < n) c *= 2
  return c
}

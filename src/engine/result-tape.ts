// NFS results from a worker to the main thread as a flat tape, not as cloned objects.
//
// Structured clone walks an object graph property by property on both threads; a GETATTR result
// (status + fattr3 with three nested times and a bigint) cost as much to clone as the whole
// GETATTR call costs inline. Results have a handful of fixed shapes (types.ts), so each is written
// here as numbers into one Float64Array, in an order fixed per procedure (SCHEMAS), and rebuilt on
// the main thread with the same fields in the same order:
//
//   tape (Float64 slots):  callId op | mask | field values... | callId op | mask | ...
//     mask: bit i set = field i of the schema is present (absent fields stay absent, not undefined)
//     n number · b boolean (0/1) · B u64 bigint (one slot, read through a BigUint64Array view)
//     a fattr3 (17 slots: fileid as u64) · t nfstime3 (2 slots) · y bytes (offset, length into
//     the message's bytes) · d READ data (index into `moved`, offset, length)
//     e READDIRPLUS entries (count, then per entry: mask, fileid, name (index into `strings`),
//     cookie, [attr], [fh])
//   strings: string[] (cloned; entry names)   moved: ArrayBuffers holding READ data (transferred)
//
// Where the tape and the bytes (handles, verifiers) travel: a ring in shared memory per worker
// (TapeRing), so a message allocates and transfers nothing for them:
//
//   ring: ctl [tape written, tape consumed, bytes written, bytes consumed] | tape slots | bytes
//   worker: copies a message's tape to [written, written + n) (wrapping to 0 when it does not fit
//           before the end), posts { at, length, end }    main: reads there, then sets consumed = end
//
// When the main thread has not caught up (the ring is full) the message carries its tape in an
// ArrayBuffer of its own instead (transferred). The main thread copies byte strings out (the ring
// is reused); it builds each result object once, from numbers.
//
// A unit test runs every procedure through both engines and compares the results field by field,
// so a field added to types.ts but not here fails there.
import type { Fattr3 } from '../xdr/types.js'

type Kind = 'n' | 'b' | 'B' | 'a' | 't' | 'y' | 'd' | 'e'
type Schema = readonly (readonly [string, Kind])[]

const ATTR = 'a' as const
const CREATE_RES: Schema = [['status', 'n'], ['fh', 'y'], ['attr', ATTR], ['dirAfter', ATTR]]
const REMOVE_RES: Schema = [['status', 'n'], ['dirAfter', ATTR]]

/** Fields of each procedure's result, by wire op code (wire.ts OPS order). */
export const SCHEMAS: readonly Schema[] = [
  /* getattr */ [['status', 'n'], ['attr', ATTR]],
  /* setattr */ [['status', 'n'], ['after', ATTR]],
  /* lookup */ [['status', 'n'], ['fh', 'y'], ['attr', ATTR], ['dirAttr', ATTR]],
  /* access */ [['status', 'n'], ['attr', ATTR], ['access', 'n']],
  /* readlink */ [['status', 'n'], ['attr', ATTR], ['target', 'y']],
  /* read */ [['status', 'n'], ['attr', ATTR], ['count', 'n'], ['eof', 'b'], ['data', 'd']],
  /* write */ [['status', 'n'], ['after', ATTR], ['count', 'n'], ['committed', 'n'], ['verf', 'B']],
  /* create */ CREATE_RES,
  /* mkdir */ CREATE_RES,
  /* symlink */ CREATE_RES,
  /* mknod */ CREATE_RES,
  /* remove */ REMOVE_RES,
  /* rmdir */ REMOVE_RES,
  /* rename */ [['status', 'n']],
  /* link */ [['status', 'n'], ['attr', ATTR]],
  /* readdirplus */ [['status', 'n'], ['dirAttr', ATTR], ['cookieverf', 'y'], ['entries', 'e'], ['eof', 'b']],
  /* fsstat */ [['status', 'n'], ['attr', ATTR], ['tbytes', 'n'], ['fbytes', 'n'], ['abytes', 'n'], ['tfiles', 'n'], ['ffiles', 'n'], ['afiles', 'n'], ['invarsec', 'n']],
  /* fsinfo */ [['status', 'n'], ['attr', ATTR], ['rtmax', 'n'], ['rtpref', 'n'], ['rtmult', 'n'], ['wtmax', 'n'], ['wtpref', 'n'], ['wtmult', 'n'], ['dtpref', 'n'], ['maxfilesize', 'n'], ['timeDelta', 't'], ['properties', 'n']],
  /* pathconf */ [['status', 'n'], ['attr', ATTR], ['linkmax', 'n'], ['nameMax', 'n'], ['noTrunc', 'b'], ['chownRestricted', 'b'], ['caseInsensitive', 'b'], ['casePreserving', 'b']],
  /* commit */ [['status', 'n'], ['verf', 'B']],
]

const ATTR_SLOTS = 17
const ENTRY_ATTR = 1
const ENTRY_FH = 2
const INITIAL_SLOTS = 256

/** Tape slots in a worker's ring: 256 KiB, about a thousand GETATTR results between two reads by the main thread. */
export const RING_SLOTS = 32 * 1024
/** Byte-string bytes in a worker's ring: 64 KiB, about 2000 file handles. */
export const RING_BYTES = 64 * 1024
const CTL_SLOTS = 4
const C_TAPE_WRITTEN = 0
const C_TAPE_CONSUMED = 1
const C_BYTES_WRITTEN = 2
const C_BYTES_CONSUMED = 3

/** The shared memory of one worker's ring (create on the main thread, hand to the worker). */
export function createRingMemory(): SharedArrayBuffer {
  return new SharedArrayBuffer(CTL_SLOTS * 8 + RING_SLOTS * 8 + RING_BYTES)
}

/** Views of a ring's memory, the same on both threads. */
export class TapeRing {
  readonly ctl: BigInt64Array
  readonly slots: Float64Array
  readonly u64: BigUint64Array
  readonly slotBytes: Uint8Array
  readonly bytes: Uint8Array

  constructor(mem: SharedArrayBuffer) {
    this.ctl = new BigInt64Array(mem, 0, CTL_SLOTS)
    this.slots = new Float64Array(mem, CTL_SLOTS * 8, RING_SLOTS)
    this.u64 = new BigUint64Array(mem, CTL_SLOTS * 8, RING_SLOTS)
    this.slotBytes = new Uint8Array(mem, CTL_SLOTS * 8, RING_SLOTS * 8)
    this.bytes = new Uint8Array(mem, CTL_SLOTS * 8 + RING_SLOTS * 8, RING_BYTES)
  }

  /**
   * Worker: room for `n` units in a region of `cap` units, or -1. Returns the offset; the region's
   * written position moves past it (skipping the end of the region when `n` does not fit there).
   */
  place(n: number, cap: number, written: number, consumed: number): { at: number; end: number } | null {
    const w = Number(this.ctl[written])
    const r = Number(Atomics.load(this.ctl, consumed))
    let start = w
    let at = w % cap
    if (at + n > cap) {
      start = w + (cap - at)
      at = 0
    }
    if (start + n - r > cap) return null
    this.ctl[written] = BigInt(start + n)
    return { at, end: start + n }
  }

  /** Main thread: everything up to `end` of the tape / bytes has been read. */
  consumed(tapeEnd: number, bytesEnd: number): void {
    if (tapeEnd >= 0) Atomics.store(this.ctl, C_TAPE_CONSUMED, BigInt(tapeEnd))
    if (bytesEnd >= 0) Atomics.store(this.ctl, C_BYTES_CONSUMED, BigInt(bytesEnd))
  }
}

/** One message's results: where its tape and bytes are, and what travels with it. */
export interface TapeParts {
  /** Slots of tape. */
  length: number
  /** The tape's offset in the ring, when `tape` is null. */
  at: number
  /** The tape in memory of its own (transferred) when the ring had no room, else null. */
  tape: ArrayBuffer | null
  /** Ring position to report consumed once read, or -1. */
  tapeEnd: number
  bytesLength: number
  bytesAt: number
  bytes: ArrayBuffer | null
  bytesEnd: number
  strings: string[]
  moved: ArrayBuffer[]
}

export class TapeWriter {
  #f = new Float64Array(INITIAL_SLOTS)
  #u = new BigUint64Array(this.#f.buffer)
  #n = 0
  #strings: string[] = []
  #bytes: Uint8Array[] = []
  #bytesTotal = 0
  #moved: ArrayBuffer[] = []
  #movedIndex = new Map<ArrayBuffer, number>()

  get count(): number {
    return this.#n
  }

  /**
   * Appends one result. `moveData(data)` says how a READ's data crosses: the ArrayBuffer to
   * transfer and where the data sits in it.
   */
  write(callId: number, op: number, res: Record<string, unknown>, moveData: (data: Uint8Array) => Uint8Array): void {
    const schema = SCHEMAS[op]!
    this.#reserve(3 + schema.length * 2)
    const f = this.#f
    f[this.#n++] = callId
    f[this.#n++] = op
    const maskAt = this.#n++
    let mask = 0
    for (let i = 0; i < schema.length; i++) {
      const [name, kind] = schema[i]!
      const v = res[name]
      if (v === undefined) continue
      mask |= 1 << i
      this.#value(kind, v, moveData)
    }
    this.#f[maskAt] = mask
  }

  /**
   * The parts of one message: tape and bytes copied into `ring` when it has room (else into
   * buffers of their own, to transfer). The writer is reset (its own buffer is kept for the next).
   */
  finish(ring: TapeRing | null): TapeParts {
    const n = this.#n
    const out: TapeParts = {
      length: n, at: 0, tape: null, tapeEnd: -1,
      bytesLength: this.#bytesTotal, bytesAt: 0, bytes: null, bytesEnd: -1,
      strings: this.#strings, moved: this.#moved,
    }
    const tapeSlot = ring?.place(n, RING_SLOTS, C_TAPE_WRITTEN, C_TAPE_CONSUMED) ?? null
    if (tapeSlot !== null) {
      ring!.slotBytes.set(new Uint8Array(this.#f.buffer, 0, n * 8), tapeSlot.at * 8)
      out.at = tapeSlot.at
      out.tapeEnd = tapeSlot.end
    } else {
      out.tape = this.#f.buffer.slice(0, n * 8)
    }
    if (this.#bytes.length > 0) {
      const byteSlot = ring?.place(this.#bytesTotal, RING_BYTES, C_BYTES_WRITTEN, C_BYTES_CONSUMED) ?? null
      const target = byteSlot !== null ? ring!.bytes : new Uint8Array(this.#bytesTotal)
      let off = byteSlot !== null ? byteSlot.at : 0
      for (const b of this.#bytes) {
        target.set(b, off)
        off += b.byteLength
      }
      if (byteSlot !== null) {
        out.bytesAt = byteSlot.at
        out.bytesEnd = byteSlot.end
      } else {
        out.bytes = target.buffer as ArrayBuffer
      }
    }
    this.#n = 0
    this.#strings = []
    this.#bytes = []
    this.#bytesTotal = 0
    this.#moved = []
    this.#movedIndex = new Map()
    return out
  }

  /** What to transfer with a message made by finish(). */
  static transferList(parts: TapeParts): ArrayBuffer[] {
    const t = [...parts.moved]
    if (parts.tape !== null) t.push(parts.tape)
    if (parts.bytes !== null) t.push(parts.bytes)
    return t
  }

  #reserve(slots: number): void {
    if (this.#n + slots <= this.#f.length) return
    let size = this.#f.length * 2
    while (size < this.#n + slots) size *= 2
    const f = new Float64Array(size)
    f.set(this.#f.subarray(0, this.#n))
    this.#f = f
    this.#u = new BigUint64Array(f.buffer)
  }

  #value(kind: Kind, v: unknown, moveData: (data: Uint8Array) => Uint8Array): void {
    switch (kind) {
      case 'n': this.#reserve(1); this.#f[this.#n++] = v as number; return
      case 'b': this.#reserve(1); this.#f[this.#n++] = v ? 1 : 0; return
      case 'B': this.#reserve(1); this.#u[this.#n++] = v as bigint; return
      case 'a': this.#attr(v as Fattr3); return
      case 't': {
        const t = v as { seconds: number; nseconds: number }
        this.#reserve(2)
        this.#f[this.#n++] = t.seconds
        this.#f[this.#n++] = t.nseconds
        return
      }
      case 'y': this.#byteString(v as Uint8Array); return
      case 'd': {
        const moved = moveData(v as Uint8Array)
        const ab = moved.buffer as ArrayBuffer
        let i = this.#movedIndex.get(ab)
        if (i === undefined) {
          i = this.#moved.push(ab) - 1
          this.#movedIndex.set(ab, i)
        }
        this.#reserve(3)
        this.#f[this.#n++] = i
        this.#f[this.#n++] = moved.byteOffset
        this.#f[this.#n++] = moved.byteLength
        return
      }
      case 'e': {
        const entries = v as { fileid: bigint; name: string; cookie: bigint; attr?: Fattr3; fh?: Uint8Array }[]
        this.#reserve(1)
        this.#f[this.#n++] = entries.length
        for (const e of entries) {
          this.#reserve(4)
          this.#f[this.#n++] = (e.attr !== undefined ? ENTRY_ATTR : 0) | (e.fh !== undefined ? ENTRY_FH : 0)
          this.#u[this.#n++] = e.fileid
          this.#f[this.#n++] = this.#strings.push(e.name) - 1
          this.#u[this.#n++] = e.cookie
          if (e.attr !== undefined) this.#attr(e.attr)
          if (e.fh !== undefined) this.#byteString(e.fh)
        }
      }
    }
  }

  #byteString(b: Uint8Array): void {
    this.#reserve(2)
    this.#f[this.#n++] = this.#bytesTotal
    this.#f[this.#n++] = b.byteLength
    this.#bytes.push(b)
    this.#bytesTotal += b.byteLength
  }

  #attr(a: Fattr3): void {
    this.#reserve(ATTR_SLOTS)
    const f = this.#f
    let n = this.#n
    f[n++] = a.type
    f[n++] = a.mode
    f[n++] = a.nlink
    f[n++] = a.uid
    f[n++] = a.gid
    f[n++] = a.size
    f[n++] = a.used
    f[n++] = a.rdevMajor
    f[n++] = a.rdevMinor
    f[n++] = a.fsid
    this.#u[n++] = a.fileid
    f[n++] = a.atime.seconds
    f[n++] = a.atime.nseconds
    f[n++] = a.mtime.seconds
    f[n++] = a.mtime.nseconds
    f[n++] = a.ctime.seconds
    f[n++] = a.ctime.nseconds
    this.#n = n
  }
}

/**
 * Main thread: rebuilds the results of one message (from `ring`, or from the buffers the message
 * carried), calling `each(callId, result)` in tape order, then tells the ring they were read.
 */
export function readTape(parts: TapeParts, ring: TapeRing | null, each: (callId: number, res: unknown) => void): void {
  const f = parts.tape !== null ? new Float64Array(parts.tape) : ring!.slots
  const u = parts.tape !== null ? new BigUint64Array(parts.tape) : ring!.u64
  const bytes = parts.bytes !== null ? new Uint8Array(parts.bytes) : ring?.bytes ?? null
  const bytesBase = parts.bytes !== null ? 0 : parts.bytesAt
  const strings = parts.strings
  let n = parts.tape !== null ? 0 : parts.at
  const end = n + parts.length
  const byteString = (): Buffer => {
    const off = bytesBase + f[n++]!
    const len = f[n++]!
    // A copy: the ring is written again (and a handle kept in a cache must not pin a message's bytes).
    const b = Buffer.allocUnsafe(len)
    b.set(bytes!.subarray(off, off + len))
    return b
  }
  const attr = (): Fattr3 => {
    const a: Fattr3 = {
      type: f[n]!, mode: f[n + 1]!, nlink: f[n + 2]!, uid: f[n + 3]!, gid: f[n + 4]!, size: f[n + 5]!, used: f[n + 6]!,
      rdevMajor: f[n + 7]!, rdevMinor: f[n + 8]!, fsid: f[n + 9]!, fileid: u[n + 10]!,
      atime: { seconds: f[n + 11]!, nseconds: f[n + 12]! },
      mtime: { seconds: f[n + 13]!, nseconds: f[n + 14]! },
      ctime: { seconds: f[n + 15]!, nseconds: f[n + 16]! },
    }
    n += ATTR_SLOTS
    return a
  }
  const results: [number, unknown][] = []
  while (n < end) {
    const callId = f[n++]!
    const schema = SCHEMAS[f[n++]!]!
    const mask = f[n++]!
    const res: Record<string, unknown> = {}
    for (let i = 0; i < schema.length; i++) {
      if ((mask & (1 << i)) === 0) continue
      const [name, kind] = schema[i]!
      switch (kind) {
        case 'n': res[name] = f[n++]; break
        case 'b': res[name] = f[n++] === 1; break
        case 'B': res[name] = u[n++]; break
        case 'a': res[name] = attr(); break
        case 't': res[name] = { seconds: f[n]!, nseconds: f[n + 1]! }; n += 2; break
        case 'y': res[name] = byteString(); break
        case 'd': {
          const ab = parts.moved[f[n]!]!
          res[name] = Buffer.from(ab, f[n + 1]!, f[n + 2]!)
          n += 3
          break
        }
        case 'e': {
          const count = f[n++]!
          const entries = new Array<Record<string, unknown>>(count)
          for (let k = 0; k < count; k++) {
            const em = f[n++]!
            const e: Record<string, unknown> = { fileid: u[n++]!, name: strings[f[n++]!]!, cookie: u[n++]! }
            if ((em & ENTRY_ATTR) !== 0) e.attr = attr()
            if ((em & ENTRY_FH) !== 0) e.fh = byteString()
            entries[k] = e
          }
          res[name] = entries
        }
      }
    }
    results.push([callId, res])
  }
  // Everything is read: the worker may write over it. Only then do callers run (they may make calls).
  ring?.consumed(parts.tapeEnd, parts.bytesEnd)
  for (const [id, res] of results) each(id, res)
}

// NFS results from a worker to the main thread as a flat tape, not as cloned objects.
//
// Structured clone walks an object graph property by property on both threads; a GETATTR result
// (status + fattr3 with three nested times and a bigint) cost as much to clone as the whole
// GETATTR call costs inline. Results have a handful of fixed shapes (types.ts), so each is written
// here as numbers into one Float64Array, in an order fixed per procedure (SCHEMAS), and rebuilt on
// the main thread with the same fields in the same order:
//
//   tape (Float64Array, transferred):  callId op | mask | field values... | callId op | mask | ...
//     mask: bit i set = field i of the schema is present (absent fields stay absent, not undefined)
//     n number · b boolean (0/1) · B u64 bigint (one slot, read through a BigUint64Array view)
//     a fattr3 (17 slots: fileid as u64) · t nfstime3 (2 slots) · y bytes (offset, length into
//     `bytes`) · s string (index into `strings`) · d READ data (index into `moved`, offset, length)
//     e READDIRPLUS entries (count, then per entry: mask, fileid, name, cookie, [attr], [fh])
//   strings: string[] (cloned; entry names)   bytes: one ArrayBuffer (transferred; handles, verifiers)
//   moved: ArrayBuffers holding READ data (transferred, see worker.ts)
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
const INITIAL_SLOTS = 1024

/** What a tape message carries besides the tape itself. */
export interface TapeParts {
  tape: ArrayBuffer
  /** Slots used. */
  length: number
  strings: string[]
  bytes: ArrayBuffer | null
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

  /** The parts to post; `tape`, `bytes` and `moved` are to be transferred. The writer is reset. */
  finish(): TapeParts {
    let bytes: ArrayBuffer | null = null
    if (this.#bytes.length > 0) {
      const arena = new Uint8Array(this.#bytesTotal)
      let off = 0
      for (const b of this.#bytes) {
        arena.set(b, off)
        off += b.byteLength
      }
      bytes = arena.buffer
    }
    const out: TapeParts = { tape: this.#f.buffer as ArrayBuffer, length: this.#n, strings: this.#strings, bytes, moved: this.#moved }
    this.#f = new Float64Array(INITIAL_SLOTS)
    this.#u = new BigUint64Array(this.#f.buffer)
    this.#n = 0
    this.#strings = []
    this.#bytes = []
    this.#bytesTotal = 0
    this.#moved = []
    this.#movedIndex = new Map()
    return out
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

/** Rebuilds the results of one tape message, calling `each(callId, result)` in tape order. */
export function readTape(parts: TapeParts, each: (callId: number, res: unknown) => void): void {
  const f = new Float64Array(parts.tape, 0, parts.length)
  const u = new BigUint64Array(parts.tape, 0, parts.length)
  const bytes = parts.bytes
  const strings = parts.strings
  let n = 0
  const byteString = (): Buffer => {
    const off = f[n++]!
    const len = f[n++]!
    return Buffer.from(bytes!, off, len)
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
  while (n < parts.length) {
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
    each(callId, res)
  }
}

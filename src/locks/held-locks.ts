// The byte ranges each lock owner holds on the server, as the server sees them after POSIX
// semantics (a new lock replaces what it overlaps of the owner's own, an unlock may split one).
// Kept so that close() can release an owner's locks, a restarted server can be asked to give
// them back (reclaim), and a restarted daemon can release what its previous run held.
import type { AuthSys } from '../xdr/types.js'

/** FUSE's "to the end of the file" (OFFSET_MAX); NLM says it with l_len 0. */
export const TO_EOF = 0x7fffffffffffffffn

export interface HeldRange {
  start: bigint
  /** Inclusive; TO_EOF for a lock to the end of the file. */
  end: bigint
  exclusive: boolean
}

/** One lock owner on one file: a process's fcntl locks (by the kernel's lock_owner) or one open file's flock. */
export interface LockOwner {
  /** Map key: file handle, kind, kernel owner id. */
  key: string
  fh: Buffer
  /** The owner handle and svid sent in every call for this owner. */
  oh: Buffer
  svid: number
  flock: boolean
  /** The credential of the last lock request (the server checks access with it). */
  auth: AuthSys
  ranges: HeldRange[]
  /** The open files (FUSE file handles) its fcntl locks were taken through, since it last held nothing. */
  openFiles: Set<number>
  /** The process that last took one of its fcntl locks (0: a flock). */
  pid: number
}

/** RANGES without [start, end]. */
export function subtract(ranges: readonly HeldRange[], start: bigint, end: bigint): HeldRange[] {
  const out: HeldRange[] = []
  for (const r of ranges) {
    if (r.end < start || r.start > end) {
      out.push(r)
      continue
    }
    if (r.start < start) out.push({ start: r.start, end: start - 1n, exclusive: r.exclusive })
    if (r.end > end) out.push({ start: end + 1n, end: r.end, exclusive: r.exclusive })
  }
  return out
}

/** The owner now holds [start, end] with EXCLUSIVE, replacing what it held there. */
export function addRange(ranges: readonly HeldRange[], start: bigint, end: bigint, exclusive: boolean): HeldRange[] {
  return [...subtract(ranges, start, end), { start, end, exclusive }].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
}

export function overlaps(ranges: readonly HeldRange[], start: bigint, end: bigint): boolean {
  return ranges.some((r) => r.end >= start && r.start <= end)
}

/** NLM's (l_offset, l_len) for an inclusive range. */
export function toNlmRange(start: bigint, end: bigint): { offset: bigint; len: bigint } {
  return { offset: start, len: end >= TO_EOF ? 0n : end - start + 1n }
}

/** The inclusive range of an NLM (l_offset, l_len); ranges past TO_EOF are clamped to it. */
export function fromNlmRange(offset: bigint, len: bigint): { start: bigint; end: bigint } {
  const start = offset > TO_EOF ? TO_EOF : offset
  if (len === 0n) return { start, end: TO_EOF }
  const end = offset + len - 1n
  return { start, end: end > TO_EOF ? TO_EOF : end }
}

// XDR primitives over linear memory, RFC 4506 §4: big-endian 4-byte units, every item padded to 4.
//
// Reader: one cursor (rp) over [start, re). Every read checks the bytes it needs against re before it
// loads, so a short or lying message can neither trap nor read past its end. The first failure is
// recorded in rerr and sticks; later reads fail too or return harmless zeros, and every loop in the
// decoders also stops on rerr, so a malformed message costs at most one pass over its own bytes.
//
// Writer: one cursor (wp) into OUT. Callers validate every length against its bound before writing,
// which caps a call at a few KiB, far below OUT_SIZE; the writer itself does no checks.

import { ERR_SHORT, ERR_BAD_BOOL } from './status'

let rp: usize = 0
let re: usize = 0
let rerr: i32 = 0
let olen: u32 = 0

let wp: usize = 0

export function readerInit(start: usize, end: usize): void {
  rp = start
  re = end
  rerr = 0
}

export function readerError(): i32 {
  return rerr
}

export function readerPos(): usize {
  return rp
}

export function fail(code: i32): void {
  if (rerr == 0) rerr = code
}

/** Bytes left before the end of the readable part of the message. */
@inline export function remaining(): usize {
  return re - rp
}

/** Checks that n bytes are present; on success the caller may use the unchecked loads below. */
export function need(n: usize): bool {
  if (re - rp < n) {
    fail(ERR_SHORT)
    return false
  }
  return true
}

@inline export function ldU32(at: usize): u32 {
  return bswap<u32>(load<u32>(at))
}

@inline export function ldU64(at: usize): u64 {
  return bswap<u64>(load<u64>(at))
}

/** Advances past n bytes already checked by need(). */
@inline export function advance(n: usize): usize {
  const at = rp
  rp += n
  return at
}

export function rdU32(): u32 {
  if (re - rp < 4) {
    fail(ERR_SHORT)
    return 0
  }
  const v = ldU32(rp)
  rp += 4
  return v
}

export function rdU64(): u64 {
  if (re - rp < 8) {
    fail(ERR_SHORT)
    return 0
  }
  const v = ldU64(rp)
  rp += 8
  return v
}

/** RFC 4506 §4.4: bool is an enum { FALSE = 0, TRUE = 1 }; anything else is malformed. */
export function rdBool(): bool {
  const v = rdU32()
  if (v > 1) {
    fail(ERR_BAD_BOOL)
    return false
  }
  return v == 1
}

/**
 * RFC 4506 §4.10/§4.11 opaque<max>/string<max>: length, bytes, pad. Checks the length against max
 * (failing with tooLong) and the padded body against the message; returns the body address and leaves
 * the length in opaqueLen(). Returns 0 on failure.
 */
export function rdOpaqueVar(max: u32, tooLong: i32): usize {
  const n = rdU32()
  if (rerr != 0) return 0
  if (n > max) {
    fail(tooLong)
    return 0
  }
  const padded = (<usize>n + 3) & ~(<usize>3)
  if (re - rp < padded) {
    fail(ERR_SHORT)
    return 0
  }
  const at = rp
  rp += padded
  olen = n
  return at
}

/**
 * Like rdOpaqueVar, but the body may extend past the readable part up to hardEnd: READ data is
 * only located, never read, so the caller may copy just the headers into IN (src/xdr/codec.ts).
 */
export function rdOpaqueUpTo(hardEnd: usize, tooLong: i32): usize {
  const n = rdU32()
  if (rerr != 0) return 0
  const padded = (<u64>n + 3) & ~(<u64>3)
  if (<u64>(hardEnd - rp) < padded) {
    fail(tooLong)
    return 0
  }
  const at = rp
  rp += <usize>padded
  olen = n
  return at
}

/** RFC 4506 §4.9 fixed opaque[n]. Returns the body address, 0 on failure. */
export function rdOpaqueFixed(n: u32): usize {
  const padded = (<usize>n + 3) & ~(<usize>3)
  if (re - rp < padded) {
    fail(ERR_SHORT)
    return 0
  }
  const at = rp
  rp += padded
  return at
}

export function opaqueLen(): u32 {
  return olen
}

export function writerInit(at: usize): void {
  wp = at
}

export function writerPos(): usize {
  return wp
}

@inline export function wrU32(v: u32): void {
  store<u32>(wp, bswap<u32>(v))
  wp += 4
}

@inline export function wrU64(v: u64): void {
  store<u64>(wp, bswap<u64>(v))
  wp += 8
}

export function wrBool(v: bool): void {
  wrU32(v ? 1 : 0)
}

/** RFC 4506 §4.9: n bytes then zero pad to a multiple of 4. */
export function wrOpaqueFixed(src: usize, n: u32): void {
  memory.copy(wp, src, n)
  wp += n
  const pad = (4 - (n & 3)) & 3
  if (pad != 0) {
    memory.fill(wp, 0, pad)
    wp += pad
  }
}

/** RFC 4506 §4.10: length then padded bytes. */
export function wrOpaqueVar(src: usize, n: u32): void {
  wrU32(n)
  wrOpaqueFixed(src, n)
}

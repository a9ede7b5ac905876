// The stat array handed to the patched binding (format 4): 19 uint32 words, st_ino as two words.
// populate_stat in patches/fuse-native+2.2.6.patch reads the words in exactly this order.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { STAT_WORDS, S_IFREG, toFuseStat, toStatArray } from '../../../src/fuse/stat.js'
import type { Fattr3 } from '../../../src/xdr/types.js'

const attr = (fileid: bigint): Fattr3 => ({
  type: 1, mode: 0o640, nlink: 3, uid: 2000, gid: 2001,
  size: 2 ** 40 + 7, used: 2 ** 33, rdevMajor: 0, rdevMinor: 0, fsid: 9, fileid,
  atime: { seconds: 1_000_000_001, nseconds: 11 },
  mtime: { seconds: 4_294_967_295, nseconds: 22 },
  ctime: { seconds: 3, nseconds: 999_999_999 },
})

test('every field at its word: 64-bit values as (low, high), times as (nsec, sec)', () => {
  const a = toStatArray(toFuseStat(attr(2n ** 32n + 5n)))
  assert.is(a.length, STAT_WORDS)
  assert.is(STAT_WORDS, 19)
  assert.equal(Array.from(a), [
    S_IFREG | 0o640, 2000, 2001,
    7, 256, // size 2^40 + 7
    0, 3, // dev, nlink
    5, 1, // ino 2^32 + 5
    0, 4096, // rdev, blksize
    2 ** 24, 0, // blocks: 2^33 bytes / 512
    11, 1_000_000_001, 22, 4_294_967_295, 999_999_999, 3,
  ])
})

test('st_ino is the exact fileid, not a 32-bit fold: 2^32 + 5 and 2^53 + 3', () => {
  // The old fold (low ^ high) showed 2^32 + 5 as 4; 2^53 + 3 did not even survive the decoder's double.
  for (const id of [2n ** 32n + 5n, 2n ** 53n + 3n, 2n ** 64n - 1n, 4n]) {
    const st = toFuseStat(attr(id))
    assert.is(st.ino, id)
    const a = toStatArray(st)
    assert.is((BigInt(a[8]!) << 32n) | BigInt(a[7]!), id, String(id))
  }
})

test('a failed request gets a zeroed array of the full length (the binding checks its size)', () => {
  const a = toStatArray(undefined)
  assert.is(a.length, STAT_WORDS)
  assert.ok(a.every((w) => w === 0))
})

test.run()

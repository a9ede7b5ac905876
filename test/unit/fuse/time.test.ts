// Times set through the mount are clamped to nfstime3's range as the Linux NFSv3 client does
// (s_time_min 0, s_time_max U32_MAX, timestamp_truncate), never wrapped to 32 bits.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { clampNfsTime3, NFS3_TIME_MAX } from '../../../src/fuse/time.js'

test('times inside [0, 2^32 - 1] pass unchanged, nanoseconds included', () => {
  assert.equal(clampNfsTime3(1, 999_999_999), { seconds: 1, nseconds: 999_999_999 })
  assert.equal(clampNfsTime3(1_262_304_000, 123_456_789), { seconds: 1_262_304_000, nseconds: 123_456_789 })
  assert.equal(clampNfsTime3(2 ** 32 - 2, 7), { seconds: 2 ** 32 - 2, nseconds: 7 })
})

test('seconds at or past 2^32 clamp to 2^32 - 1 with nanoseconds 0 (no wrap to 1970)', () => {
  assert.is(NFS3_TIME_MAX, 2 ** 32 - 1)
  for (const s of [2 ** 32, 2 ** 32 + 1, 2 ** 40, 2 ** 53 + 2, Number.MAX_VALUE, Infinity]) {
    assert.equal(clampNfsTime3(s, 500), { seconds: 4294967295, nseconds: 0 }, String(s))
  }
})

test('negative seconds clamp to 0 with nanoseconds 0 (no wrap to 2106)', () => {
  for (const s of [-1, -(2 ** 31), -(2 ** 32), -(2 ** 63), -Infinity]) {
    assert.equal(clampNfsTime3(s, 500_000_000), { seconds: 0, nseconds: 0 }, String(s))
  }
})

// timestamp_truncate zeroes tv_nsec whenever the clamped seconds equal s_time_min or s_time_max,
// so a time exactly at an end loses its nanoseconds too.
test('seconds exactly at either end keep the end and lose the nanoseconds, like the kernel', () => {
  assert.equal(clampNfsTime3(4294967295, 0), { seconds: 4294967295, nseconds: 0 })
  assert.equal(clampNfsTime3(4294967295, 500_000_000), { seconds: 4294967295, nseconds: 0 })
  assert.equal(clampNfsTime3(0, 500_000_000), { seconds: 0, nseconds: 0 })
})

test.run()

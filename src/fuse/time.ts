// Times set through the mount (utimensat, touch) become NFSv3 times.
//
// nfstime3 (RFC 1813 §2.5) holds unsigned 32-bit seconds, but the binding hands over tv_sec as a
// signed 64-bit value: 2^32 s would wrap to 1970 and -1 to 2106 if it were simply cut to 32 bits.
// The Linux NFS client gives a v3 superblock s_time_min = 0 and s_time_max = U32_MAX, and
// timestamp_truncate() (fs/inode.c) clamps every time set on it into that range, with the
// nanoseconds zeroed when the seconds end up at either end. mapnfs does the same, so a time set
// through mapnfs reads back as it would through a kernel NFSv3 mount.
import type { NfsTime3 } from '../xdr/types.js'

/** The NFSv3 time range in seconds: s_time_min and s_time_max of a Linux NFSv3 superblock. */
export const NFS3_TIME_MIN = 0
export const NFS3_TIME_MAX = 0xffffffff

/**
 * SECONDS (signed, any size) and NSECONDS (0..999999999, as the kernel validated them) as the
 * nfstime3 the Linux v3 client would send: seconds clamped into [0, 2^32 - 1], never wrapped, and
 * nseconds 0 when the seconds are at either end of that range.
 */
export function clampNfsTime3(seconds: number, nseconds: number): NfsTime3 {
  if (seconds <= NFS3_TIME_MIN) return { seconds: NFS3_TIME_MIN, nseconds: 0 }
  if (seconds >= NFS3_TIME_MAX) return { seconds: NFS3_TIME_MAX, nseconds: 0 }
  return { seconds, nseconds }
}

// The kernel's readahead window of a FUSE mount: /sys/class/bdi/<major:minor>/read_ahead_kb of the
// mount's own backing device (an anonymous one, created with the mount and gone with it).
//
// libfuse 2 cannot ask for more than the kernel proposes at INIT (128 KiB), and with 128 KiB the
// kernel keeps one or two 128 KiB reads in flight per reader: each waits a round trip through the
// daemon. A wider window lets it send several at once, which the daemon serves from its own
// readahead (read-ahead.ts) while the next ones travel. Measured here (dd 1 MiB, 512 MiB file,
// median of 5 alternating runs on one mount): 128 KiB 597 MB/s, 512 KiB 799, 1 MiB 700, 2 MiB 567.
// Wider than that, requests queue behind the kernel's limit of background requests per mount and
// arrive further out of order than the daemon's readahead counts as one stream.
import { stat, writeFile } from 'node:fs/promises'
import { splitDev } from './stat.js'

/** The kernel readahead mapnfs asks for on its mounts, in KiB. */
export const FUSE_READAHEAD_KIB = 512

/** The sysfs file holding the readahead window of the filesystem mounted at `mountpoint`. */
// Asynchronous on purpose: called by the daemon serving that mount, a stat of its root is a FUSE
// request its own event loop must answer.
export async function readAheadFile(mountpoint: string): Promise<string> {
  const { major, minor } = splitDev((await stat(mountpoint)).dev)
  return `/sys/class/bdi/${major}:${minor}/read_ahead_kb`
}

/** Sets the window; returns why it could not (the mount still works, with the kernel's default). */
export async function setReadAheadWindow(mountpoint: string, kib: number): Promise<string | null> {
  try {
    await writeFile(await readAheadFile(mountpoint), `${Math.max(0, Math.floor(kib))}\n`)
    return null
  } catch (err) {
    return (err as Error).message
  }
}

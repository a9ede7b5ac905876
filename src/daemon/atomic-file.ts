// State that must survive a crash whole: written to a temporary file in the same directory,
// fsynced and renamed over the old one (a crash leaves the old text or the new, never half of
// one), mode 0600 in a 0700 directory.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** Replaces PATH with TEXT atomically (temp file, fsync, rename, fsync of the directory); throws the fs error. */
export function writeFileAtomic(path: string, text: string): void {
  const dir = dirname(path)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const tmp = join(dir, `.${path.slice(dir.length + 1)}.${process.pid}.tmp`)
  let fd = -1
  try {
    // 'wx' after removing a leftover: the mode below applies only to a file this call creates.
    try {
      unlinkSync(tmp)
    } catch {
      // None left over.
    }
    fd = openSync(tmp, 'wx', 0o600)
    writeSync(fd, text)
    fsyncSync(fd)
    closeSync(fd)
    fd = -1
    renameSync(tmp, path)
  } catch (err) {
    if (fd >= 0) closeSync(fd)
    try {
      unlinkSync(tmp)
    } catch {
      // Already renamed or never created.
    }
    throw err
  }
  try {
    const dfd = openSync(dir, 'r')
    try {
      fsyncSync(dfd)
    } finally {
      closeSync(dfd)
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic.
  }
}

// What both filesystems (nfs-nodes.ts for the kernel front end, filesystem.ts for libfuse 2) ask
// of NFS the same way: name limits, READDIRPLUS sizes, access(2) masks as ACCESS3 bits, and the
// set-id rule of a mode change.
import { ACCESS3_DELETE, ACCESS3_EXECUTE, ACCESS3_EXTEND, ACCESS3_LOOKUP, ACCESS3_MODIFY, ACCESS3_READ } from '../xdr/constants.js'

/** NFS servers limit a name component to 255 bytes (NAME_MAX); longer ones are refused before sending. */
export const NAME_MAX = 255
/** READDIRPLUS sizes: directory bytes per reply, and the whole reply (entries carry attributes). */
export const READDIR_DIRCOUNT = 16 * 1024
export const READDIR_MAXCOUNT = 64 * 1024

const S_ISUID = 0o4000
const S_ISGID = 0o2000

/** ACCESS3 bits that answer access(2)'s MASK (R_OK 4, W_OK 2, X_OK 1) for a file or a directory. */
export function accessBits(mask: number, isDir: boolean): number {
  let want = 0
  if (mask & 4) want |= ACCESS3_READ
  if (mask & 2) want |= isDir ? ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE : ACCESS3_MODIFY | ACCESS3_EXTEND
  if (mask & 1) want |= isDir ? ACCESS3_LOOKUP : ACCESS3_EXECUTE
  return want
}

/** Whether the ACCESS3 bits GRANTED allow every part of access(2)'s MASK. */
export function grants(granted: number, mask: number, isDir: boolean): boolean {
  if (mask & 4 && !(granted & ACCESS3_READ)) return false
  if (mask & 2 && !(granted & (ACCESS3_MODIFY | ACCESS3_EXTEND | (isDir ? ACCESS3_DELETE : 0)))) return false
  if (mask & 1 && !(granted & (isDir ? ACCESS3_LOOKUP : ACCESS3_EXECUTE))) return false
  return true
}

/**
 * `want` is `mode` with some of S_ISUID/S_ISGID cleared and nothing else changed: the kernel's
 * request to drop them before a non-owner's write, which the server refuses to that writer (EPERM)
 * and does itself at the WRITE, as the kernel NFS client relies on.
 */
export function onlyClearsSetId(mode: number, want: number): boolean {
  const setId = S_ISUID | S_ISGID
  const before = mode & 0o7777
  return (want & ~setId) === (before & ~setId) && (want & setId & ~before) === 0 && (want & setId) !== (before & setId)
}

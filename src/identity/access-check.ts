import { IdentityError } from './errors.js'

/** Owners the check cannot judge: nobody and the "unknown" id some servers report. */
const NOBODY = 65534
const UNKNOWN = 4294967294

/**
 * Mount-time check (identity contract): refuse when U/G cannot read the export root, judged
 * from its raw (unmapped) owner and mode. Lenient when the owner is nobody or unknown, since
 * the server may be squashing and will decide per call anyway.
 */
export function checkRootReadable(root: { uid: number; gid: number; mode: number }, uid: number, gid: number): void {
  if (root.uid === NOBODY || root.uid === UNKNOWN) return
  const mode = root.mode
  if (mode & 0o004) return
  if (root.uid === uid && mode & 0o400) return
  if (root.gid === gid && mode & 0o040) return
  throw new IdentityError('user lacks read access to share')
}

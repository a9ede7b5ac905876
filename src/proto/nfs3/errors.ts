// nfsstat3 → errno, RFC 1813 §2.6 names. ESTALE stays ESTALE (callers re-resolve the path on
// it); it must never collapse into EIO.
import {
  NFS3ERR_ACCES, NFS3ERR_BAD_COOKIE, NFS3ERR_BADHANDLE, NFS3ERR_BADTYPE, NFS3ERR_DQUOT, NFS3ERR_EXIST, NFS3ERR_FBIG,
  NFS3ERR_INVAL, NFS3ERR_IO, NFS3ERR_ISDIR, NFS3ERR_JUKEBOX, NFS3ERR_MLINK, NFS3ERR_NAMETOOLONG, NFS3ERR_NODEV,
  NFS3ERR_NOENT, NFS3ERR_NOSPC, NFS3ERR_NOT_SYNC, NFS3ERR_NOTDIR, NFS3ERR_NOTEMPTY, NFS3ERR_NOTSUPP, NFS3ERR_NXIO,
  NFS3ERR_PERM, NFS3ERR_REMOTE, NFS3ERR_ROFS, NFS3ERR_SERVERFAULT, NFS3ERR_STALE, NFS3ERR_TOOSMALL, NFS3ERR_XDEV,
} from '../../xdr/constants.js'

const ERRNO: Record<number, [string, number]> = {
  [NFS3ERR_PERM]: ['NFS3ERR_PERM', 1], // EPERM
  [NFS3ERR_NOENT]: ['NFS3ERR_NOENT', 2], // ENOENT
  [NFS3ERR_IO]: ['NFS3ERR_IO', 5], // EIO
  [NFS3ERR_NXIO]: ['NFS3ERR_NXIO', 6], // ENXIO
  [NFS3ERR_ACCES]: ['NFS3ERR_ACCES', 13], // EACCES
  [NFS3ERR_EXIST]: ['NFS3ERR_EXIST', 17], // EEXIST
  [NFS3ERR_XDEV]: ['NFS3ERR_XDEV', 18], // EXDEV
  [NFS3ERR_NODEV]: ['NFS3ERR_NODEV', 19], // ENODEV
  [NFS3ERR_NOTDIR]: ['NFS3ERR_NOTDIR', 20], // ENOTDIR
  [NFS3ERR_ISDIR]: ['NFS3ERR_ISDIR', 21], // EISDIR
  [NFS3ERR_INVAL]: ['NFS3ERR_INVAL', 22], // EINVAL
  [NFS3ERR_FBIG]: ['NFS3ERR_FBIG', 27], // EFBIG
  [NFS3ERR_NOSPC]: ['NFS3ERR_NOSPC', 28], // ENOSPC
  [NFS3ERR_ROFS]: ['NFS3ERR_ROFS', 30], // EROFS
  [NFS3ERR_MLINK]: ['NFS3ERR_MLINK', 31], // EMLINK
  [NFS3ERR_NAMETOOLONG]: ['NFS3ERR_NAMETOOLONG', 36], // ENAMETOOLONG (Linux value)
  [NFS3ERR_NOTEMPTY]: ['NFS3ERR_NOTEMPTY', 39], // ENOTEMPTY (Linux value)
  [NFS3ERR_DQUOT]: ['NFS3ERR_DQUOT', 122], // EDQUOT (Linux value)
  [NFS3ERR_STALE]: ['NFS3ERR_STALE', 116], // ESTALE (Linux value)
  [NFS3ERR_REMOTE]: ['NFS3ERR_REMOTE', 66], // EREMOTE (Linux value)
  [NFS3ERR_BADHANDLE]: ['NFS3ERR_BADHANDLE', 116], // a handle the server cannot parse: stale to us
  [NFS3ERR_NOT_SYNC]: ['NFS3ERR_NOT_SYNC', 5],
  [NFS3ERR_BAD_COOKIE]: ['NFS3ERR_BAD_COOKIE', 5],
  [NFS3ERR_NOTSUPP]: ['NFS3ERR_NOTSUPP', 95], // EOPNOTSUPP
  [NFS3ERR_TOOSMALL]: ['NFS3ERR_TOOSMALL', 5],
  [NFS3ERR_SERVERFAULT]: ['NFS3ERR_SERVERFAULT', 5],
  [NFS3ERR_BADTYPE]: ['NFS3ERR_BADTYPE', 95],
  [NFS3ERR_JUKEBOX]: ['NFS3ERR_JUKEBOX', 11], // EAGAIN, only after the retries ran out
}

export const ESTALE = 116

export function nfsstatName(status: number): string {
  return ERRNO[status]?.[0] ?? `nfsstat3 ${status}`
}

/** A procedure answered with nfsstat3 != NFS3_OK. */
export class Nfs3Error extends Error {
  readonly code = 'ERR_NFS3_STATUS'
  readonly errno: number
  constructor(readonly status: number, readonly proc: number) {
    super(`NFSv3 procedure ${proc} failed: ${nfsstatName(status)}`)
    this.name = 'Nfs3Error'
    this.errno = ERRNO[status]?.[1] ?? 5
  }
}

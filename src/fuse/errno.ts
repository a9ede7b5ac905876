// The one place errors become errno values. Every error class of the lower layers carries a
// positive `errno`; anything else is a bug or an unexpected system error and becomes EIO with
// one log line naming its cause.
export const EPERM = 1
export const EIO = 5
export const EBADF = 9
export const EACCES = 13
export const ENOTDIR = 20
export const EINVAL = 22
export const EROFS = 30
export const ENAMETOOLONG = 36
export const ENOLCK = 37
export const ESTALE = 116

/** An error raised by the front end itself (bad fd, read-only mount, …). */
export class FsError extends Error {
  readonly code = 'ERR_FS'
  constructor(readonly errno: number, message: string) {
    super(message)
    this.name = 'FsError'
  }
}

export function toErrno(err: unknown, log: (line: string) => void): number {
  const e = (err ?? {}) as { errno?: unknown; code?: unknown; message?: unknown }
  if (typeof e.code === 'string' && e.code.startsWith('ERR_') && typeof e.errno === 'number' && e.errno > 0) {
    // Bytes from the server that do not parse are worth a line: the operation fails with EIO.
    if (e.code === 'ERR_XDR_DECODE') log(`malformed reply from the server: ${String(e.message)}`)
    return e.errno
  }
  log(`unexpected error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  return EIO
}

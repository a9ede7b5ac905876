// Lock errors that are not the server's answer (those are NlmError, proto/nlm/errors.ts).

/** A blocked lock request given up because the process was interrupted (FUSE_INTERRUPT). */
export class LockInterruptedError extends Error {
  readonly code = 'ERR_LOCK_INTERRUPTED'
  readonly errno = 4 // EINTR
  constructor() {
    super('lock request interrupted')
    this.name = 'LockInterruptedError'
  }
}

/** A lock request the kernel should never send: unknown type, negative or reversed range. */
export class LockRequestError extends Error {
  readonly code = 'ERR_LOCK_REQUEST'
  readonly errno = 22 // EINVAL
  constructor(what: string) {
    super(`invalid lock request: ${what}`)
    this.name = 'LockRequestError'
  }
}

/** A rejected identity option or an identity that may not be used; `message` is safe to show. */
export class IdentityError extends Error {
  readonly code = 'ERR_IDENTITY'
  readonly errno = 22 // EINVAL
  constructor(message: string) {
    super(message)
    this.name = 'IdentityError'
  }
}

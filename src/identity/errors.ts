/** A rejected identity option or an identity that may not be used; `message` is safe to show. */
export class IdentityError extends Error {
  readonly code = 'ERR_IDENTITY'
  readonly errno = 22 // EINVAL
  constructor(message: string) {
    super(message)
    this.name = 'IdentityError'
  }
}

/** LDAP resolution failed (unreachable, unknown user, wrong password, …); `message` is safe to show. */
export class LdapError extends Error {
  readonly code = 'ERR_LDAP'
  readonly errno = 13 // EACCES
  constructor(message: string) {
    super(message)
    this.name = 'LdapError'
  }
}

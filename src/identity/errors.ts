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

/**
 * A local user the mount does not serve asked for something: a mapped mount with a fixed local
 * identity and no kernel permission checks lends its server identity to that identity and root only.
 */
export class ForeignCallerError extends Error {
  readonly code = 'ERR_FOREIGN_CALLER'
  readonly errno = 13 // EACCES
  constructor(uid: number) {
    super(`local uid ${uid} is not served by this mount`)
    this.name = 'ForeignCallerError'
  }
}

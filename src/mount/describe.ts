/**
 * One line for a user, never a stack: the error classes of every layer carry messages fit to
 * print (no secrets: the LDAP code keeps passwords out of its errors).
 */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const msg = err.message.split('\n')[0] ?? ''
    return msg || err.name
  }
  return String(err)
}

/**
 * Escapes a value for an LDAP search filter, RFC 4515 §3: `*`, `(`, `)`, `\` and NUL become
 * `\2a`, `\28`, `\29`, `\5c`, `\00`. So `*)(cn=*` matches only an entry literally named that.
 */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (c) => '\\' + c.charCodeAt(0).toString(16).padStart(2, '0'))
}

/** Puts the escaped username into a filter template at each `%s`. */
export function userFilter(template: string, username: string): string {
  const escaped = escapeFilterValue(username)
  return template.split('%s').join(escaped)
}

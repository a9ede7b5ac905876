import { IdentityError } from './errors.js'

/** Largest id AUTH_SYS can carry that is not the "unknown" 4294967295 (-1). */
const MAX_ID = 0xfffffffe

/**
 * Parses a uid/gid option value. Error texts are the ones platform users already know
 * (identity contract): 0, negative or non-integer values are refused.
 */
export function parseId(option: 'uid' | 'gid' | 'localuid' | 'localgid', value: string | number): number {
  const text = String(value).trim()
  if (!/^\d+$/.test(text)) throw new IdentityError(`Invalid '${option}' option (0, negative, or non-integer)`)
  const id = Number(text)
  if (id === 0 || id > MAX_ID) throw new IdentityError(`Invalid '${option}' option (0, negative, or non-integer)`)
  return id
}

/** Refuses uid/gid 0 from any source (explicit options or a directory lookup). */
export function checkServerIdentity(uid: number, gid: number): void {
  if (!Number.isInteger(uid) || uid <= 0 || uid > MAX_ID) throw new IdentityError(`Invalid 'uid' option (0, negative, or non-integer)`)
  if (!Number.isInteger(gid) || gid <= 0 || gid > MAX_ID) throw new IdentityError(`Invalid 'gid' option (0, negative, or non-integer)`)
}

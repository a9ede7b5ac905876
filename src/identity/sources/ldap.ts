// Username + password → uid/gid through LDAP (identity contract, "LDAP resolution"):
//   1. connect (implicit TLS or StartTLS verified against the configured CA; never a silent
//      fallback to plain)        2. bind as the service account
//   3. subtree search with the RFC 4515-escaped username, exactly one entry
//   4. gid = gidNumber, or the uid when it is missing or empty
//   5. bind as the entry's DN with the user's password   6. the ids pass the usual validation
// Errors carry the texts users know and never the password. The whole resolution is bounded by
// the configured timeout.
import { Client } from 'ldapts'
import { LdapError } from '../errors.js'
import { checkServerIdentity } from '../ids.js'
import { escapeFilterValue, userFilter } from '../filter-escape.js'
import type { LdapSettings } from '../ldap-settings.js'
import { MAX_AUX_GIDS } from '../groups.js'

export interface LdapIdentity {
  uid: number
  gid: number
  /** [gid, supplementary...] when groups are enabled, at most 16. */
  gids?: number[]
}

export const LDAP_UNREACHABLE = 'LDAP server could not be reached, please contact your system administrator'
const MAX_USERNAME = 256

function unreachable(cause?: unknown): LdapError {
  const e = new LdapError(LDAP_UNREACHABLE)
  if (cause !== undefined) Object.defineProperty(e, 'detail', { value: describeCause(cause), enumerable: false })
  return e
}

function describeCause(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown }
  return String(e?.code ?? e?.name ?? 'error')
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID', 'ERR_SSL_WRONG_VERSION_NUMBER',
])

function isTlsError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && (TLS_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'))
}

function connectionError(err: unknown): LdapError {
  if (isTlsError(err)) {
    return new LdapError(`LDAP server certificate was not accepted (${describeCause(err)}): check LDAP_CA_CERT and LDAP_HOST`)
  }
  return unreachable(err)
}

function firstValue(v: unknown): string | undefined {
  const x = Array.isArray(v) ? v[0] : v
  if (x === undefined || x === null) return undefined
  return Buffer.isBuffer(x) ? x.toString('utf8') : String(x)
}

function parseIdValue(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined
  if (!/^-?\d+$/.test(v.trim())) return NaN
  return Number(v.trim())
}

/**
 * Resolves and verifies. Resolves with the ids; rejects with LdapError whose message is one of
 * the contract's texts (or names the misconfigured piece), never containing the password, or with
 * IdentityError when the directory holds an id the contract refuses (0).
 */
export async function resolveLdapIdentity(s: LdapSettings, username: string, password: string): Promise<LdapIdentity> {
  if (username.length === 0 || username.length > MAX_USERNAME) throw new LdapError('User does not exist')
  if (password.length === 0) throw new LdapError('LDAP username is specified but LDAP password is missing')

  const url = `${s.tls === 'ldaps' ? 'ldaps' : 'ldap'}://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`
  // `host` is what the certificate is checked against (StartTLS wraps an existing socket, which
  // would otherwise be checked as "localhost"); SNI only carries names, never addresses.
  const tlsOptions = {
    ...(s.caCert !== undefined ? { ca: [s.caCert] } : {}),
    rejectUnauthorized: true,
    host: s.host,
    ...(isIp(s.host) ? {} : { servername: s.host }),
  }
  const client = new Client({
    url,
    timeout: s.timeoutMs,
    connectTimeout: s.timeoutMs,
    ...(s.tls === 'ldaps' ? { tlsOptions } : {}),
  })
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unreachable('timeout')), s.timeoutMs)
  })
  try {
    return await Promise.race([run(client, s, username, password, tlsOptions), deadline])
  } finally {
    clearTimeout(timer)
    await client.unbind().catch(() => undefined)
  }
}

async function run(client: Client, s: LdapSettings, username: string, password: string, tlsOptions: object): Promise<LdapIdentity> {
  if (s.tls === 'starttls') {
    try {
      await client.startTLS(tlsOptions)
    } catch (err) {
      throw connectionError(err)
    }
  }
  try {
    await client.bind(s.serviceUser, s.servicePassword)
  } catch (err) {
    if (isResultError(err)) throw new LdapError('LDAP service account bind failed, please contact your system administrator')
    throw connectionError(err)
  }

  const attributes = [s.uidAttr, s.gidAttr, ...(s.groups === 'memberOf' ? ['memberOf'] : [])]
  let entries: { dn: string; [k: string]: unknown }[]
  try {
    const res = await client.search(s.searchBase, { scope: 'sub', filter: userFilter(s.filter, username), attributes, sizeLimit: 2 })
    entries = res.searchEntries
  } catch (err) {
    if ((err as { name?: string }).name === 'SizeLimitExceededError') throw new LdapError('Ambiguous search--too many results')
    if ((err as { name?: string }).name === 'NoSuchObjectError') throw new LdapError('User does not exist')
    if (isResultError(err)) throw new LdapError(`LDAP search failed (${describeCause(err)}), please contact your system administrator`)
    throw connectionError(err)
  }
  if (entries.length === 0) throw new LdapError('User does not exist')
  if (entries.length > 1) throw new LdapError('Ambiguous search--too many results')
  const entry = entries[0]!

  const uid = parseIdValue(firstValue(entry[s.uidAttr]))
  if (uid === undefined) throw new LdapError(`User entry has no '${s.uidAttr}'`)
  const gidRaw = parseIdValue(firstValue(entry[s.gidAttr]))
  const gid = gidRaw === undefined ? uid : gidRaw
  checkServerIdentity(uid, gid)

  try {
    await client.bind(entry.dn, password)
  } catch (err) {
    if (isResultError(err)) throw new LdapError('LDAP authentication failed: wrong password for this username')
    throw connectionError(err)
  }

  if (s.groups === 'off') return { uid, gid }
  return { uid, gid, gids: await supplementaryGroups(client, s, username, gid, entry) }
}

async function supplementaryGroups(client: Client, s: LdapSettings, username: string, gid: number, entry: Record<string, unknown>): Promise<number[]> {
  // The user's own bind may not see groups; search them as the service account.
  await client.bind(s.serviceUser, s.servicePassword)
  const found: number[] = []
  if (s.groups === 'posixGroup') {
    const res = await client.search(s.groupBase, {
      scope: 'sub',
      filter: `(&(objectClass=posixGroup)(memberUid=${escapeFilterValue(username)}))`,
      attributes: [s.gidAttr],
      sizeLimit: 64,
    }).catch(() => ({ searchEntries: [] as Record<string, unknown>[] }))
    for (const g of res.searchEntries) found.push(parseIdValue(firstValue(g[s.gidAttr])) ?? NaN)
  } else {
    const dns = ([] as unknown[]).concat(entry.memberOf ?? []).map(String).slice(0, 64)
    for (const dn of dns) {
      const res = await client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: [s.gidAttr] }).catch(() => ({ searchEntries: [] as Record<string, unknown>[] }))
      for (const g of res.searchEntries) found.push(parseIdValue(firstValue(g[s.gidAttr])) ?? NaN)
    }
  }
  const gids = [gid]
  for (const g of found) {
    if (gids.length >= MAX_AUX_GIDS) break
    if (Number.isInteger(g) && g > 0 && g <= 0xfffffffe && !gids.includes(g)) gids.push(g)
  }
  return gids
}

function isResultError(err: unknown): boolean {
  return typeof (err as { code?: unknown })?.code === 'number'
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':')
}

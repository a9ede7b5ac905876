// Operator settings for LDAP identities. They come from a config file (KEY=value lines) and/or
// the environment, never only from the command line, where `ps` would show the service password.
// Names follow the platform's LDAP_* variables users already set.
import { readFileSync, statSync } from 'node:fs'
import { IdentityError } from './errors.js'

export interface LdapSettings {
  host: string
  port: number
  /** none: plain LDAP; ldaps: implicit TLS; starttls: upgrade after connect. No fallback to plain. */
  tls: 'none' | 'ldaps' | 'starttls'
  /** PEM of the CA that must have signed the server certificate (TLS modes); system CAs when absent. */
  caCert?: string
  serviceUser: string
  servicePassword: string
  searchBase: string
  /** Bound on the whole resolution (connect, binds, searches). */
  timeoutMs: number
  /** `%s` is replaced by the RFC 4515-escaped username. */
  filter: string
  uidAttr: string
  gidAttr: string
  /** Supplementary groups sent in AUTH_SYS (at most 16 gids in all); off by default. */
  groups: 'off' | 'posixGroup' | 'memberOf'
  groupBase: string
}

export const LDAP_DEFAULTS = {
  port: 389,
  ldapsPort: 636,
  timeoutSeconds: 120,
  filter: '(&(objectClass=User)(cn=%s))',
  uidAttr: 'uidNumber',
  gidAttr: 'gidNumber',
} as const

const KEYS = [
  'LDAP_HOST', 'LDAP_PORT', 'LDAP_TLS', 'LDAP_CA_CERT', 'LDAP_SVC_USER', 'LDAP_SVC_PASS', 'LDAP_SVC_PASS_FILE',
  'LDAP_USER_FQDN', 'LDAP_TIMEOUT', 'LDAP_USER_FILTER', 'LDAP_UID_ATTR', 'LDAP_GID_ATTR', 'LDAP_GROUPS', 'LDAP_GROUP_BASE',
] as const
type Key = (typeof KEYS)[number]

/** The config file users point at with `ldap-config=` or MAPNFS_LDAP_CONFIG; this one if present. */
export const DEFAULT_LDAP_CONFIG = '/etc/mapnfs/ldap.conf'

/** Parses KEY=value lines ('#' comments, optional matching quotes). Unknown keys are errors. */
export function parseSettingsFile(text: string, path: string): Partial<Record<Key, string>> {
  const out: Partial<Record<Key, string>> = {}
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const eq = line.indexOf('=')
    if (eq <= 0) throw new IdentityError(`${path}:${i + 1}: expected KEY=value`)
    const key = line.slice(0, eq).trim()
    let value = line.slice(eq + 1).trim()
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1)
    if (!(KEYS as readonly string[]).includes(key)) throw new IdentityError(`${path}:${i + 1}: unknown setting '${key}'`)
    out[key as Key] = value
  })
  return out
}

/**
 * Loads the settings: the config file (explicit path, else MAPNFS_LDAP_CONFIG, else the default
 * path when it exists), then LDAP_* environment variables on top. Returns null when no LDAP host
 * is configured. Throws IdentityError for unreadable or invalid settings (texts name the key,
 * never a value that could be a secret).
 */
export function loadLdapSettings(explicitPath: string | undefined, env: NodeJS.ProcessEnv = process.env): LdapSettings | null {
  const path = explicitPath ?? env.MAPNFS_LDAP_CONFIG ?? (exists(DEFAULT_LDAP_CONFIG) ? DEFAULT_LDAP_CONFIG : undefined)
  let fromFile: Partial<Record<Key, string>> = {}
  if (path !== undefined) {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      throw new IdentityError(`cannot read LDAP config ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
    }
    fromFile = parseSettingsFile(text, path)
    if (fromFile.LDAP_SVC_PASS !== undefined && (statSync(path).mode & 0o077) !== 0) {
      throw new IdentityError(`LDAP config ${path} holds LDAP_SVC_PASS and is readable by others: chmod 600 it`)
    }
  }
  const get = (k: Key): string | undefined => {
    const v = env[k] ?? fromFile[k]
    return v === undefined || v === '' ? undefined : v
  }
  const host = get('LDAP_HOST')
  if (host === undefined) return null

  const tls = (get('LDAP_TLS') ?? 'none').toLowerCase()
  if (tls !== 'none' && tls !== 'ldaps' && tls !== 'starttls') throw new IdentityError("Invalid 'LDAP_TLS' setting (none, ldaps or starttls)")
  const portText = get('LDAP_PORT')
  const port = portText === undefined ? (tls === 'ldaps' ? LDAP_DEFAULTS.ldapsPort : LDAP_DEFAULTS.port) : Number(portText)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new IdentityError("Invalid 'LDAP_PORT' setting")
  const timeoutText = get('LDAP_TIMEOUT')
  const timeoutS = timeoutText === undefined ? LDAP_DEFAULTS.timeoutSeconds : Number(timeoutText)
  if (!(timeoutS > 0) || timeoutS > 3600) throw new IdentityError("Invalid 'LDAP_TIMEOUT' setting (seconds, 1-3600)")

  let caCert: string | undefined
  const caPath = get('LDAP_CA_CERT')
  if (caPath !== undefined) {
    if (tls === 'none') throw new IdentityError("'LDAP_CA_CERT' needs LDAP_TLS=ldaps or starttls")
    try {
      caCert = readFileSync(caPath, 'utf8')
    } catch (err) {
      throw new IdentityError(`cannot read LDAP_CA_CERT ${caPath}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
    }
    if (!caCert.includes('-----BEGIN CERTIFICATE-----')) throw new IdentityError(`LDAP_CA_CERT ${caPath} is not a PEM certificate`)
  }

  let servicePassword = get('LDAP_SVC_PASS')
  const passFile = get('LDAP_SVC_PASS_FILE')
  if (servicePassword === undefined && passFile !== undefined) {
    try {
      servicePassword = readFileSync(passFile, 'utf8').replace(/\r?\n$/, '')
    } catch (err) {
      throw new IdentityError(`cannot read LDAP_SVC_PASS_FILE ${passFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
    }
  }
  const serviceUser = get('LDAP_SVC_USER')
  if (serviceUser === undefined || servicePassword === undefined) {
    throw new IdentityError('LDAP is configured without a service account (LDAP_SVC_USER and LDAP_SVC_PASS or LDAP_SVC_PASS_FILE)')
  }
  const searchBase = get('LDAP_USER_FQDN')
  if (searchBase === undefined) throw new IdentityError("LDAP is configured without a search base ('LDAP_USER_FQDN')")
  const filter = get('LDAP_USER_FILTER') ?? LDAP_DEFAULTS.filter
  if (!filter.includes('%s')) throw new IdentityError("'LDAP_USER_FILTER' must contain %s where the username goes")
  const groups = (get('LDAP_GROUPS') ?? 'off')
  if (groups !== 'off' && groups !== 'posixGroup' && groups !== 'memberOf') throw new IdentityError("Invalid 'LDAP_GROUPS' setting (off, posixGroup or memberOf)")
  const attr = (k: Key, d: string): string => {
    const v = get(k) ?? d
    if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(v)) throw new IdentityError(`Invalid '${k}' setting (an attribute name)`)
    return v
  }
  return {
    host,
    port,
    tls,
    ...(caCert !== undefined ? { caCert } : {}),
    serviceUser,
    servicePassword,
    searchBase,
    timeoutMs: timeoutS * 1000,
    filter,
    uidAttr: attr('LDAP_UID_ATTR', LDAP_DEFAULTS.uidAttr),
    gidAttr: attr('LDAP_GID_ATTR', LDAP_DEFAULTS.gidAttr),
    groups,
    groupBase: get('LDAP_GROUP_BASE') ?? searchBase,
  }
}

function exists(path: string): boolean {
  try {
    statSync(path)
    return true
  } catch {
    return false
  }
}

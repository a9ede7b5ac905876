// Identity mapping, beside the engine: decides the AUTH_SYS credential of every call and the
// local view of ownership. Imports no other layer of mapnfs.
export { IdentityMap, type Caller, type Credential, type IdentityConfig } from './identity-map.js'
export { GroupCache, parseGroups, MAX_AUX_GIDS } from './groups.js'
export { parseId, checkServerIdentity } from './ids.js'
export { checkRootReadable } from './access-check.js'
export { IdentityError, LdapError, ForeignCallerError } from './errors.js'
export { loadLdapSettings, parseSettingsFile, LDAP_DEFAULTS, DEFAULT_LDAP_CONFIG, type LdapSettings } from './ldap-settings.js'
export { resolveLdapIdentity, LDAP_UNREACHABLE, type LdapIdentity } from './sources/ldap.js'
export { escapeFilterValue, userFilter } from './filter-escape.js'

// Per-mount identity: which AUTH_SYS credential each call carries, and how the ids in replies
// are shown locally (identity contract, "Mapping, both directions").
//
//   mapped       outbound  uid=U gid=G gids=[G] (or the configured list)
//                inbound   fattr3 uid U → local uid, gid G → local gid, other ids unchanged
//                chown     local uid/gid → U/G
//                local ids: fixed by localuid/localgid, else the calling process's
//                exclusive: only the local uid and root are served (others: EACCES); for mounts
//                whose permissions the kernel does not check (see lifecycle), so the server
//                identity is not lent to other local users
//   passthrough  no uid/gid configured: a plain multi-user client. Each call carries the
//                caller's own uid, gid and supplementary groups; ownership is not rewritten.
//
// This module imports no other layer: the credential it returns is structurally the
// protocol layer's CallCredential.
import { hostname } from 'node:os'
import { GroupCache, MAX_AUX_GIDS } from './groups.js'
import { checkServerIdentity } from './ids.js'
import { ForeignCallerError, IdentityError } from './errors.js'

export interface Caller {
  uid: number
  gid: number
  pid: number
}

export interface Credential {
  readonly auth: { stamp: number; machine: string; uid: number; gid: number; gids: readonly number[] }
  readonly map: { serverUid: number; serverGid: number; localUid: number; localGid: number } | null
}

export type IdentityConfig =
  | { kind: 'mapped'; uid: number; gid: number; gids?: readonly number[]; localUid?: number; localGid?: number; exclusive?: boolean }
  | { kind: 'passthrough' }

/** chown(2) passes (uid_t)-1 for "leave unchanged". */
const UNCHANGED = 0xffffffff
/** RFC 5531 appendix A: machinename<255>. */
const MACHINE_MAX = 255
/** Mapped-mode credentials are shared per local identity; bound the table all the same. */
const CRED_CACHE_MAX = 256

export class IdentityMap {
  readonly config: IdentityConfig
  readonly #machine: string
  readonly #stamp: number
  readonly #groups: GroupCache
  readonly #creds = new Map<string, Credential>()

  constructor(config: IdentityConfig, groups = new GroupCache()) {
    if (config.kind === 'mapped') {
      checkServerIdentity(config.uid, config.gid)
      if (config.gids && config.gids.length > MAX_AUX_GIDS) throw new IdentityError(`at most ${MAX_AUX_GIDS} gids can be sent`)
    }
    this.config = config
    this.#machine = Buffer.from(hostname()).subarray(0, MACHINE_MAX).toString('latin1')
    this.#stamp = Math.floor(Date.now() / 1000) >>> 0
    this.#groups = groups
  }

  /** The credential of the mount itself (MOUNT, FSINFO, the root checks): U/G, or the daemon's own ids. */
  mountCredential(): Credential {
    const c = this.config
    if (c.kind === 'mapped') return this.#mappedCredential(c.localUid ?? process.getuid!(), c.localGid ?? process.getgid!())
    const uid = process.getuid!()
    const gid = process.getgid!()
    return { auth: this.#auth(uid, gid, [gid]), map: null }
  }

  /** The same credential without the inbound rewrite (to judge raw server ownership). */
  rawMountCredential(): Credential {
    return { auth: this.mountCredential().auth, map: null }
  }

  /**
   * Credential for one call made on behalf of `caller` (from the FUSE request context). Rejects
   * with ForeignCallerError when an exclusive mapped mount is asked by someone other than its
   * local uid or root.
   */
  async credentialFor(caller: Caller): Promise<Credential> {
    const c = this.config
    if (c.kind === 'mapped') {
      if (c.exclusive && c.localUid !== undefined && caller.uid !== c.localUid && caller.uid !== 0) throw new ForeignCallerError(caller.uid)
      return this.#mappedCredential(c.localUid ?? caller.uid, c.localGid ?? caller.gid)
    }
    const key = `${caller.uid}:${caller.gid}:${caller.pid}`
    const gids = await this.#groups.groupsOf(caller.pid, caller.gid)
    const hit = this.#creds.get(key)
    if (hit && sameGids(hit.auth.gids, gids)) return hit
    const cred = { auth: this.#auth(caller.uid, caller.gid, gids), map: null }
    this.#remember(key, cred)
    return cred
  }

  /**
   * Server-side owner for a chown by `caller`: the local uid/gid become U/G so the file stays
   * the mount's own. `undefined` means "leave unchanged" ((uid_t)-1).
   */
  toServerOwner(uid: number, gid: number, caller: Caller): { uid?: number; gid?: number } {
    const out: { uid?: number; gid?: number } = {}
    const c = this.config
    if (uid !== UNCHANGED && uid !== -1) out.uid = c.kind === 'mapped' && uid === (c.localUid ?? caller.uid) ? c.uid : uid
    if (gid !== UNCHANGED && gid !== -1) out.gid = c.kind === 'mapped' && gid === (c.localGid ?? caller.gid) ? c.gid : gid
    return out
  }

  #mappedCredential(localUid: number, localGid: number): Credential {
    const c = this.config as Extract<IdentityConfig, { kind: 'mapped' }>
    const key = `${localUid}:${localGid}`
    const hit = this.#creds.get(key)
    if (hit) return hit
    const cred: Credential = {
      auth: this.#auth(c.uid, c.gid, c.gids ?? [c.gid]),
      map: { serverUid: c.uid, serverGid: c.gid, localUid, localGid },
    }
    this.#remember(key, cred)
    return cred
  }

  #auth(uid: number, gid: number, gids: readonly number[]): Credential['auth'] {
    return { stamp: this.#stamp, machine: this.#machine, uid, gid, gids }
  }

  #remember(key: string, cred: Credential): void {
    if (this.#creds.size >= CRED_CACHE_MAX) this.#creds.clear()
    this.#creds.set(key, cred)
  }
}

function sameGids(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((g, i) => g === b[i])
}

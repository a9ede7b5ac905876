// Command line and mount options. Names and error texts follow what users of the platform's
// NFS volume services already know (identity contract); every rejection is a UsageError whose
// message is the one line the user sees.
import { parseId } from '../identity/index.js'

export class UsageError extends Error {
  readonly code = 'ERR_USAGE'
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export interface Source {
  host: string
  /** NFS port from nfs://host:port/… */
  port?: number
  /** MOUNT port from ?mountport=N */
  mountPort?: number
  export: string
}

export interface MountOptions {
  source: Source
  /** The SOURCE argument as given (printed back in the "mounted" line). */
  sourceText: string
  mountpoint: string
  uid?: number
  gid?: number
  localUid?: number
  localGid?: number
  readonly: boolean
  cache: boolean
  autoCache: boolean
  nfsPort?: number
  mountPort?: number
  /** undefined = default (on when running as root) */
  resvport?: boolean
  /** Minor RPC timeout in tenths of a second (as nfs(5) timeo). */
  timeo: number
  /** Retransmissions before a major timeout: a soft call then fails, a hard one starts over. */
  retrans: number
  /** Write-through: each write() waits for its WRITE reply (default: write-behind). */
  sync: boolean
  /** Hard (default): calls retry until the server answers. Soft: they fail with ETIMEDOUT. */
  hard: boolean
  /**
   * perm: the kernel checks each caller against the mode and owner shown (default_permissions);
   * noperm: only the server checks. undefined: perm, unless the server identity has groups the
   * local kernel cannot know (LDAP groups beyond the primary gid).
   */
  perm?: boolean
  stats: boolean
  /** Engine worker threads (0: the inline engine); undefined: defaultWorkers(cores), decided at mount time. */
  workers?: number
  /** NFS connections per engine, or per worker when workers > 0 (nconnect). */
  nconnect: number
  /** FUSE front end: the kernel protocol spoken by mapnfs itself, or fuse-native over libfuse 2. */
  frontend: Frontend
  /** The kernel's writeback cache (kernel front end only): write() returns once the page cache has the data. */
  writeback: boolean
  /** LDAP mode: resolve uid/gid from this username. */
  username?: string
  /** Where the LDAP password comes from: a file, or '-' for stdin. Never the password itself. */
  passwordFile?: string
  /** Operator settings file for LDAP (else MAPNFS_LDAP_CONFIG, else /etc/mapnfs/ldap.conf). */
  ldapConfig?: string
  /** nfs(5) local_lock: which locks stay on this host (the rest go to the server through NLM). */
  localLock: LocalLock
  /** NLM port on the server (default: the portmapper's answer for program 100021 version 4). */
  nlmPort?: number
  /** Where lock state lives across runs: the per-mount journal and this host's NSM state. */
  lockDir: string
}

export type LocalLock = 'none' | 'all' | 'flock' | 'posix'
export const LOCAL_LOCKS: readonly LocalLock[] = ['none', 'all', 'flock', 'posix']
export const DEFAULT_LOCK_DIR = '/var/lib/mapnfs/locks'

/**
 * Which kinds of lock go to the server: local_lock=none both, all neither, flock/posix the other
 * one (the parser makes it `all` for frontend=libfuse2, which passes no lock requests on).
 */
export function serverLocks(o: Pick<MountOptions, 'localLock'>): { posix: boolean; flock: boolean } {
  return { posix: o.localLock === 'none' || o.localLock === 'flock', flock: o.localLock === 'none' || o.localLock === 'posix' }
}

export type Frontend = 'kernel' | 'libfuse2'
export const FRONTENDS: readonly Frontend[] = ['kernel', 'libfuse2']

export const DEFAULTS = {
  timeo: 50,
  retrans: 3,
  nconnect: 1,
  frontend: 'kernel' as Frontend,
} as const

function parseLocalLock(v: string): LocalLock {
  if (!(LOCAL_LOCKS as readonly string[]).includes(v)) throw new UsageError(`Invalid 'local_lock' option (${LOCAL_LOCKS.join(', ')})`)
  return v as LocalLock
}

function parseLockDir(v: string): string {
  if (!v.startsWith('/')) throw new UsageError("Invalid 'lockdir' option (an absolute path)")
  return v
}

function parseFrontend(v: string): Frontend {
  if (!(FRONTENDS as readonly string[]).includes(v)) throw new UsageError(`Invalid 'frontend' option (${FRONTENDS.join(' or ')})`)
  return v as Frontend
}

/** Fewest cores for which the default is the pooled engine (one worker); below it, inline. */
export const POOL_MIN_CORES = 8

/**
 * The number of engine workers when `workers` is not given, from the cores this process may use:
 * 0 (inline) below POOL_MIN_CORES, else 1. Measured on a 2-core machine (README, Performance):
 * every load was slower pooled, by 15-55%: each RPC crosses two threads (a GETATTR alone in flight
 * took 385 us pooled against 91 us inline there, which latency-bound loads such as a stat loop pay
 * on every RPC), and the worker's own CPU (20-50% of a core) is taken from the main thread, the
 * server, the kernel's FUSE work and the application, which already share the 2 cores. What the
 * pool saves is main-thread time on large transfers (128 KiB READ: 128 us of the main thread
 * inline, 39 pooled): worth a worker only when that thread is the bottleneck and the worker has a
 * core of its own beside the main thread, the server and the application, so not below 8 cores
 * (not measured: no such machine was available).
 */
export function defaultWorkers(cores: number): number {
  return cores >= POOL_MIN_CORES ? 1 : 0
}

/** Range of `workers` and `nconnect` (MAX_WORKERS in src/engine). */
export const MAX_WORKERS = 16
export const MAX_NCONNECT = 16

const VALUE_OPTIONS = new Set(['username', 'password', 'password-file', 'ldap-config', 'uid', 'gid', 'localuid', 'localgid', 'cache', 'version', 'vers', 'nfsport', 'mountport', 'timeo', 'retrans', 'auto_cache', 'readonly', 'ro', 'resvport', 'stats', 'workers', 'nconnect', 'frontend', 'writeback', 'local_lock', 'nlmport', 'lockdir'])
const FLAG_OPTIONS = new Set(['ro', 'readonly', 'rw', 'resvport', 'noresvport', 'auto_cache', 'noauto_cache', 'cache', 'stats', 'hard', 'soft', 'perm', 'noperm', 'sync', 'async', 'writeback', 'nowriteback', 'lock', 'nolock'])

export function parseSource(text: string): Source {
  const bad = (): never => {
    throw new UsageError(`Invalid 'share' option: '${text}' (expected nfs://host[:port]/export or host:/export)`)
  }
  if (text.startsWith('nfs://')) {
    let url: URL
    try {
      url = new URL(text)
    } catch {
      return bad()
    }
    if (!url.hostname) return bad()
    const src: Source = { host: stripBrackets(url.hostname), export: decodeURIComponent(url.pathname) || '/' }
    if (url.port) src.port = parsePort('port', url.port)
    for (const [k, v] of url.searchParams) {
      if (k === 'mountport') src.mountPort = parsePort('mountport', v)
      // libnfs URLs carry the NFS port as a query parameter; one port, however it is written.
      else if (k === 'nfsport') {
        const p = parsePort('nfsport', v)
        if (src.port !== undefined && src.port !== p) throw new UsageError(`the source URL names two NFS ports (${src.port} and nfsport=${p})`)
        src.port = p
      }
      else if (k === 'version' || k === 'vers') parseVersion(v)
      else throw new UsageError(`unknown option '${k}' in source URL`)
    }
    if (!src.export.startsWith('/')) return bad()
    return src
  }
  const i = text.indexOf(':')
  if (i <= 0) return bad()
  const host = stripBrackets(text.slice(0, i))
  const path = text.slice(i + 1)
  if (!host || !path.startsWith('/')) return bad()
  return { host, export: path }
}

function stripBrackets(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h
}

function parsePort(name: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw new UsageError(`Invalid '${name}' option (expected a port number 1-65535)`)
  return Number(v)
}

function parseBool(name: string, v: string | true): boolean {
  if (v === true) return true
  const s = v.toLowerCase()
  if (['true', 'yes', 'on', '1'].includes(s)) return true
  if (['false', 'no', 'off', '0'].includes(s)) return false
  throw new UsageError(`Invalid '${name}' option`)
}

export function parseVersion(v: string): void {
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(Number(v) > 0)) throw new UsageError(`"version" must be a positive numeric value`)
  const [major, minor] = v.trim().split('.')
  if (major === '3') {
    if (minor !== undefined && Number(minor) !== 0) throw new UsageError('NFSv3 does not use minor versions')
    return
  }
  if (major === '4') throw new UsageError('NFSv4 is not supported by this client (use version=3)')
  throw new UsageError(`NFS version ${v} is not supported by this client (use version=3)`)
}

function parseInt(name: string, v: string | true, min: number, max: number): number {
  if (v === true || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`Invalid '${name}' option (expected an integer ${min}-${max})`)
  }
  return Number(v)
}

/** Collects `-o a=b,c` and `--a b` / `--a=b` / `--c` into ordered [name, value] pairs. */
function collect(args: string[]): { positional: string[]; opts: [string, string | true][] } {
  const positional: string[] = []
  const opts: [string, string | true][] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '-o') {
      const v = args[++i]
      if (v === undefined) throw new UsageError("option '-o' needs a value")
      for (const part of v.split(',')) {
        if (part === '') continue
        const eq = part.indexOf('=')
        opts.push(eq < 0 ? [part, true] : [part.slice(0, eq), part.slice(eq + 1)])
      }
    } else if (a.startsWith('-o') && a.length > 2) {
      collect(['-o', a.slice(2)]).opts.forEach((o) => opts.push(o))
    } else if (a.startsWith('--')) {
      const body = a.slice(2)
      const eq = body.indexOf('=')
      if (eq >= 0) {
        opts.push([body.slice(0, eq), body.slice(eq + 1)])
      } else if (FLAG_OPTIONS.has(body)) {
        opts.push([body, true])
      } else if (VALUE_OPTIONS.has(body)) {
        const v = args[++i]
        if (v === undefined) throw new UsageError(`option '--${body}' needs a value`)
        opts.push([body, v])
      } else {
        opts.push([body, true])
      }
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`unknown option '${a}'`)
    } else {
      positional.push(a)
    }
  }
  return { positional, opts }
}

/** Parses the arguments after `mount`. Throws UsageError with the message to print. */
export function parseMountArgs(args: string[]): MountOptions {
  const { positional, opts } = collect(args)
  if (positional.length < 2) throw new UsageError('usage: mapnfs mount SOURCE MOUNTPOINT [-o options] (see mapnfs --help)')
  if (positional.length > 2) throw new UsageError(`unexpected argument '${positional[2]}'`)
  const [sourceText, mountpoint] = positional as [string, string]
  if (opts.some(([name]) => name === 'password')) {
    throw new UsageError("a password must not be given on the command line (ps shows it); use 'password-file=FILE' or 'password-file=-' (stdin)")
  }
  return buildMountOptions(sourceText, mountpoint, opts)
}

/**
 * A volume's options as an orchestrator sends them (Docker's `-o key=value`, `-o flag` arrives as
 * "flag": ""), with `source` (or `share`) naming the export. The same names, values and error texts
 * as `mapnfs mount`, less what a daemon cannot take: a password (dockerd shows volume options to
 * anyone who may run `docker volume inspect`), stdin, relative paths, and a mount point of the
 * volume's own choosing.
 */
export function parseVolumeOptions(opts: Record<string, unknown>, mountpoint: string, secret: { password: boolean } = { password: false }): MountOptions {
  const pairs: [string, string | true][] = []
  let sourceText: string | undefined
  for (const [name, value] of Object.entries(opts)) {
    if (typeof value !== 'string') throw new UsageError(`Invalid '${name}' option (expected a string value)`)
    switch (name) {
      case 'source': case 'share':
        if (sourceText !== undefined) throw new UsageError("give 'source' or 'share', not both")
        sourceText = value
        continue
      case 'password':
        throw new UsageError("a password must not be given as a volume option (docker volume inspect shows it); use 'password-file=FILE' (a file only root can read)")
      case 'mount':
        throw new UsageError("option 'mount' is not a volume option: the daemon decides where a volume is mounted and tells the orchestrator")
      case 'password-file': case 'ldap-config':
        if (value === '-') throw new UsageError(`'${name}=-' (stdin) is not possible for a volume; give a file`)
        if (!value.startsWith('/')) throw new UsageError(`'${name}' must be an absolute path`)
    }
    pairs.push([name, value === '' ? true : value])
  }
  if (sourceText === undefined || sourceText === '') throw new UsageError("Missing mandatory options: source")
  return buildMountOptions(sourceText, mountpoint, pairs, secret.password)
}

/** PASSWORD_GIVEN: the caller holds the LDAP password itself (a CSI secret), so no password-file is needed. */
function buildMountOptions(sourceText: string, mountpoint: string, opts: [string, string | true][], passwordGiven = false): MountOptions {
  const out: MountOptions = {
    source: parseSource(sourceText),
    sourceText,
    mountpoint,
    readonly: false,
    cache: false,
    autoCache: true,
    timeo: DEFAULTS.timeo,
    retrans: DEFAULTS.retrans,
    hard: true,
    sync: false,
    stats: false,
    nconnect: DEFAULTS.nconnect,
    frontend: DEFAULTS.frontend,
    writeback: false,
    localLock: 'none',
    lockDir: DEFAULT_LOCK_DIR,
  }
  let cacheSet = false
  let localLockSet = false
  for (const [name, value] of opts) {
    const str = (): string => {
      if (value === true) throw new UsageError(`option '${name}' needs a value`)
      return value
    }
    switch (name) {
      case 'uid': out.uid = parseId('uid', str()); break
      case 'gid': out.gid = parseId('gid', str()); break
      case 'localuid': out.localUid = parseId('localuid', str()); break
      case 'localgid': out.localGid = parseId('localgid', str()); break
      case 'ro': case 'readonly': out.readonly = parseBool(name, value); break
      case 'rw': out.readonly = !parseBool(name, value); break
      case 'cache': out.cache = parseBool('cache', value); cacheSet = true; break
      case 'auto_cache': out.autoCache = parseBool('auto_cache', value); break
      case 'noauto_cache': out.autoCache = false; break
      case 'version': case 'vers': parseVersion(str()); break
      case 'nfsport': out.nfsPort = parsePort('nfsport', str()); break
      case 'mountport': out.mountPort = parsePort('mountport', str()); break
      case 'resvport': out.resvport = parseBool('resvport', value); break
      case 'noresvport': out.resvport = false; break
      case 'timeo': out.timeo = parseInt('timeo', value, 1, 6000); break
      case 'retrans': out.retrans = parseInt('retrans', value, 0, 10); break
      case 'hard': out.hard = parseBool('hard', value); break
      case 'soft': out.hard = !parseBool('soft', value); break
      case 'sync': out.sync = parseBool('sync', value); break
      case 'async': out.sync = !parseBool('async', value); break
      case 'perm': out.perm = parseBool('perm', value); break
      case 'noperm': out.perm = !parseBool('noperm', value); break
      case 'stats': out.stats = parseBool('stats', value); break
      case 'workers': out.workers = parseInt('workers', value, 0, MAX_WORKERS); break
      case 'nconnect': out.nconnect = parseInt('nconnect', value, 1, MAX_NCONNECT); break
      case 'frontend': out.frontend = parseFrontend(str()); break
      case 'writeback': out.writeback = parseBool('writeback', value); break
      case 'nowriteback': out.writeback = false; break
      case 'local_lock': out.localLock = parseLocalLock(str()); localLockSet = true; break
      case 'nolock': out.localLock = parseBool('nolock', value) ? 'all' : 'none'; localLockSet = true; break
      case 'lock': out.localLock = parseBool('lock', value) ? 'none' : 'all'; localLockSet = true; break
      case 'nlmport': out.nlmPort = parsePort('nlmport', str()); break
      case 'lockdir': out.lockDir = parseLockDir(str()); break
      case 'username': out.username = str(); break
      case 'password-file': out.passwordFile = str(); break
      case 'ldap-config': out.ldapConfig = str(); break
      default:
        throw new UsageError(`unknown option '${name}'`)
    }
  }
  if (out.writeback && out.frontend !== 'kernel') throw new UsageError("option 'writeback' needs frontend=kernel (libfuse 2 has no writeback cache)")
  // libfuse 2 (fuse-native) passes no lock requests on: there, locks are local unless asked otherwise.
  if (out.frontend !== 'kernel') {
    if (localLockSet && out.localLock !== 'all') throw new UsageError("locks on the server (local_lock=none|flock|posix) need frontend=kernel (fuse-native passes no lock requests on); use local_lock=all or nolock")
    out.localLock = 'all'
  }
  if (out.username !== undefined) {
    const clash = [out.uid !== undefined ? 'uid' : '', out.gid !== undefined ? 'gid' : ''].filter(Boolean)
    if (clash.length > 0) throw new UsageError(`Not allowed options: ${clash.join(', ')}`)
    if (out.username.length === 0) throw new UsageError("Invalid 'username' option")
    if (out.passwordFile === undefined && !passwordGiven) throw new UsageError('LDAP username is specified but LDAP password is missing')
    if (out.passwordFile !== undefined && passwordGiven) throw new UsageError("give the LDAP password once: in the secret or as 'password-file', not both")
  } else if (out.passwordFile !== undefined) {
    throw new UsageError("'password-file' needs 'username'")
  } else if (passwordGiven) {
    throw new UsageError("a password was given but no 'username' (LDAP mode needs both)")
  }
  if (out.uid !== undefined && out.gid === undefined) throw new UsageError("required 'gid' option is missing")
  if (out.gid !== undefined && out.uid === undefined) throw new UsageError("required 'uid' option is missing")
  if ((out.localUid !== undefined || out.localGid !== undefined) && out.uid === undefined && out.username === undefined) {
    throw new UsageError("'localuid'/'localgid' need 'uid' and 'gid' (they say how the mapped ids are shown)")
  }
  // readonly turns attribute caching on unless the user said otherwise (contract: `readonly`).
  if (out.readonly && !cacheSet) out.cache = true
  return out
}

export const HELP = `mapnfs: NFSv3 over FUSE with per-mount uid/gid mapping

Usage:
  mapnfs mount SOURCE MOUNTPOINT [-o opt[=val][,opt...]] [--opt val | --flag ...]
  mapnfs unmount MOUNTPOINT
  mapnfs serve [--socket PATH] [--state PATH] [--mount-root DIR] [--metrics HOST:PORT]
               [--log-format json|text] [--log-level LEVEL]
  mapnfs --help

SOURCE is nfs://host[:port]/export[?mountport=N&nfsport=N&version=3] or host:/export.
mapnfs runs in the foreground. Once the mount answers it prints
  mapnfs: mounted SOURCE on MOUNTPOINT
and serves until SIGINT/SIGTERM or 'mapnfs unmount', then unmounts and exits 0.
Errors are one line on stderr and a non-zero exit (2: bad usage, 1: mount failed);
nothing stays mounted after a failure. Run as root (FUSE with allow_other).

Identity (every option works as -o name=value and as --name value):
  uid=N, gid=N     Server-side identity: every RPC carries AUTH_SYS uid=N gid=N gids=[N];
                   files owned by N:N on the server are shown as the local identity, and
                   chown to the local identity is sent as N:N. Both or neither; 0 refused.
                   Without them mapnfs is a plain multi-user client: each call carries the
                   calling process's own uid, gid and supplementary groups, ownership unmapped.
  localuid=N, localgid=N
                   Local identity shown for mapped files (default: the calling process's).
  username=NAME, password-file=FILE|-
                   LDAP identity: resolve uid/gid from the directory (settings below) and
                   verify the password (read from FILE, or stdin for '-') before any RPC.
                   Not allowed together with uid/gid. 'password=' is refused: argv is public.
  ldap-config=FILE LDAP operator settings (KEY=value lines); default: $MAPNFS_LDAP_CONFIG,
                   else /etc/mapnfs/ldap.conf. LDAP_* environment variables override it:
                   LDAP_HOST, LDAP_PORT (389; 636 for ldaps), LDAP_TLS (none|ldaps|starttls),
                   LDAP_CA_CERT (PEM file the server certificate must chain to),
                   LDAP_SVC_USER, LDAP_SVC_PASS or LDAP_SVC_PASS_FILE, LDAP_USER_FQDN (search
                   base), LDAP_TIMEOUT (seconds, 120), LDAP_USER_FILTER ((&(objectClass=User)(cn=%s));
                   OpenLDAP: (&(objectClass=posixAccount)(uid=%s))), LDAP_UID_ATTR (uidNumber),
                   LDAP_GID_ATTR (gidNumber), LDAP_GROUPS (off|posixGroup|memberOf: send up to
                   16 gids), LDAP_GROUP_BASE.
  The mount is refused with "user lacks read access to share" when uid/gid cannot read
  the export root.

Permissions (the server always checks, with the identity each call carries):
  perm             Also check locally, in the kernel, what ls -l shows (FUSE default_permissions):
                   each local caller against the displayed owner, group and mode, as on a local
                   disk. Other local users cannot use a mapped mount's server identity beyond what
                   the displayed modes grant them, and FIFOs and device nodes (which the kernel
                   opens without asking mapnfs) are covered. Default, except for LDAP identities
                   with groups beyond the primary gid (LDAP_GROUPS), whose group grants only the
                   server can judge.
  noperm           Only the server checks. A mapped mount with localuid then serves only that
                   uid and root (others get EACCES); without localuid every local caller acts
                   as the server identity.

Caching:
  cache[=BOOL]     Attribute and entry caching (3 s). Default false: a stat shows the server's
                   state; attributes a reply brought answer the other requests of the same
                   syscall for at most 20 ms, so another client's change shows after 20 ms.
  sync, async      sync: each write() waits until the server has the data (write-through).
                   async (default): write-behind; write() returns once the data is queued,
                   several WRITEs are in flight, flush/fsync/close COMMIT, and a failed WRITE
                   is reported at the next write(), fsync() or close().
  ro, readonly     Read-only mount (writes fail with EROFS); turns cache on unless cache=false.
  auto_cache[=BOOL], noauto_cache
                   Keep file data cached across opens while mtime and size are unchanged
                   (default on).
  writeback[=BOOL], nowriteback
                   The kernel's writeback cache (frontend=kernel only): write() returns once
                   the page cache holds the data, which the kernel writes out in large
                   requests; close() and fsync() still send and COMMIT it (close-to-open).
                   Default off.

FUSE front end:
  frontend=kernel|libfuse2
                   kernel: mapnfs speaks the FUSE kernel protocol itself (1 MiB requests,
                   READDIRPLUS, one kernel inode per NFS file). libfuse2: the fuse-native
                   bridge over libfuse 2 (128 KiB requests, path-based), kept while it is
                   measured; it can mount as a non-root user (user_allow_other). Default kernel.

Locks (fcntl and flock, through the server's lock manager, NLM v4, as the kernel NFS client):
  local_lock=none|all|flock|posix
                   Which locks stay on this host (nfs(5)). none (default): fcntl byte-range
                   locks (OFD locks too) and flock go to the server, so processes on other
                   hosts and other mounts see them; flock is a whole-file lock there. F_GETLK
                   reports a holder on this mount with its pid, one elsewhere with pid 0.
                   all: every lock is local to this mount.
                   flock / posix: that kind stays local, the other goes to the server. A
                   server without a lock manager: one warning, lock calls fail with ENOLCK.
                   frontend=libfuse2 passes no lock requests on: its locks are local.
  nolock, lock     nolock = local_lock=all; lock = local_lock=none.
  nlmport=N        The server's NLM port (default: the portmapper's, program 100021 v4).
  lockdir=DIR      Lock state kept across runs (default ${DEFAULT_LOCK_DIR}): a journal per mount
                   of what it holds, so that the next mount on the same mount point releases
                   the locks of a daemon that was killed, and this host's NSM state number.
                   Blocked locks (F_SETLKW, flock without LOCK_NB) are granted by the server's
                   callback (mapnfs registers NLM v4 with this host's portmapper when no other
                   lock manager has; several mapnfs processes share the entry) or, failing
                   that, found granted by asking again every second. After a server restart the
                   locks held are reclaimed in its grace period; new locks wait for it to end.
                   Locks are released on close as POSIX says; unmount releases what is left.
                   Lock calls are soft: ETIMEDOUT after timeo x (retrans + 1) without answer.

Transport:
  version=3        NFS version; only 3 (or 3.0) is supported.
  nfsport=N        NFS port (default: from nfs://host:PORT, else the portmapper on port 111).
  mountport=N      MOUNT port (default: ?mountport=N in the URL, else the portmapper).
  resvport, noresvport
                   Bind a reserved source port (512-1023), which "secure" exports require.
                   Default: on when running as root.
  hard, soft       What a call does when the server stops answering (default hard).
                   hard: it waits and retries until the server answers, on a fresh connection
                   after each timeo x (retrans + 1); the application blocks, never sees an
                   error, never loses a write ("server ... not responding, still trying" is
                   logged, then "server ... OK"). SIGTERM still ends the mount promptly:
                   open files commit while the server answers; after 5 s of silence the
                   waiting calls fail with EIO. soft: the call fails with
                   ETIMEDOUT after timeo x (retrans + 1). Either way the mount itself (portmap,
                   MOUNT, the first calls) is soft, so a dead server fails the mount at once.
  workers=N        Engine worker threads, 0-16. 0: NFS calls run on the main thread next to FUSE
                   (the inline engine). N > 0: N threads (piscina), each with its own WASM codec
                   and connection(s), fed in batches; the main thread keeps FUSE and the caches.
                   Default: 0 below ${POOL_MIN_CORES} cores, else 1 (measured on 2 cores: the
                   pool was slower on every load there; see README, Performance).
  nconnect=N       NFS connections per engine, or per worker with workers > 0, 1-16 (default 1).
                   Calls go to the connection with the fewest calls (then bytes) in flight; at
                   most 128 calls and 64 MiB in flight per engine, more wait in a queue.
  timeo=N          Tenths of a second before an unanswered call is sent again (default ${DEFAULTS.timeo}).
  retrans=N        Retransmissions before a major timeout (default ${DEFAULTS.retrans}): 20 s by default.
                   Dropped connections are reopened and the calls in flight resent.
  stats            On exit, and on SIGUSR2 while mounted, print "mapnfs: stats {json}" on
                   stderr: calls, replies, byProc (calls per NFS procedure number), inFlight
                   (RPCs waiting for a reply now), maxInFlight (most RPCs in flight at once),
                   retransmits, reconnects, majorTimeouts (calls that waited a whole
                   timeo x (retrans + 1)), rewrittenChunks (data written again after a server
                   restart), staleRetries, uncommittedBytes, dirtyBytes, bytesRead,
                   bytesWritten, errors (failed NFS calls by errno), locks (granted, unlocks,
                   tests, blocked, grantCallbacks, reclaimed, lost, held; null with nolock),
                   rsize, wsize, workers, nconnect. mapnfs serve exports the same counters as metrics.
`

// Mount lifecycle: checks, MOUNT, FSINFO, identity checks, FUSE mount, readiness, and the
// reverse on the way out. Each step that succeeded is undone if a later one fails, so a
// failed mount leaves nothing behind.
import { constants as fsc, readFileSync } from 'node:fs'
import { access, realpath, stat } from 'node:fs/promises'
import { XdrCodec } from '../xdr/codec.js'
import { XdrDecodeError } from '../xdr/errors.js'
import { RpcTimeoutError } from '../rpc/errors.js'
import { MOUNT_PROG, MOUNT_V3, NFS_PROG, NFS_V3, PMAP_PORT } from '../xdr/constants.js'
import { getport } from '../proto/portmap/client.js'
import { NLM_PROG, NLM_VERS } from '../xdr/lock-codec.js'
import type { AuthSys } from '../xdr/types.js'
import { hostStatus, LockManager, rememberServer, type HostStatus } from '../locks/index.js'
import { notifyReboot } from '../proto/nsm/client.js'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { mnt, umnt } from '../proto/mount/client.js'
import { availableParallelism, hostname } from 'node:os'
import { EngineMetrics, InlineEngine, instrumentEngine, PooledEngine, type Engine, type EngineOptions } from '../engine/index.js'
import { IdentityMap, checkRootReadable, loadLdapSettings, resolveLdapIdentity, type IdentityConfig } from '../identity/index.js'
import { patchedBindingAvailable } from '../fuse/index.js'
import { createFrontEnd, type FrontEnd, type FrontEndOptions } from './frontend.js'
import { defaultWorkers, serverLocks, type MountOptions } from './options.js'
import { isMounted } from './mounts.js'
import { mountStats, statsFields, statsLine, type MountStats } from './stats.js'

/** A failure to report as one line; `message` is safe to print (no secrets, no stack). */
export class MountFailure extends Error {
  readonly code = 'ERR_MOUNT'
  constructor(message: string) {
    super(message)
    this.name = 'MountFailure'
  }
}

/** Largest READ/WRITE we ask for: the WASM core's reply region holds 1 MiB of data. */
const MAX_IO = 1024 * 1024
const MIN_IO = 4096
/** Headroom over rsize for RPC/NFS headers and attributes in a reply record. */
const RECORD_HEADROOM = 64 * 1024
const CACHE_SECONDS = 3
/**
 * Caching off: how long attributes from a reply still answer requests for the same path. One
 * stat(2) makes libfuse ask up to five times within a millisecond or two (LOOKUP of each component,
 * the kernel's permission checks, the GETATTR); 20 ms covers them and a tight loop's directory
 * walks, while a change made by another client still shows 20 ms later at most.
 */
const ATTR_REUSE_MS = 20
const READY_TIMEOUT_MS = 15_000
const WATCH_INTERVAL_MS = 1000
/**
 * On the way out a hard mount lets its open files COMMIT while the server answers, and fails the
 * calls still waiting once it has been silent this long: stopping must stay prompt (intr).
 */
const STOP_COMMIT_GRACE_MS = 5000
const STOP_POLL_MS = 250
/** UMNT is a courtesy to the server's mount list: never let it hold up an exit. */
const UMNT_TIMEOUT_MS = 2000
/** Where mapnfs processes list their NLM grant callback ports (tmpfs: gone with a reboot, as they are). */
const CALLBACK_REGISTRY = '/run/mapnfs/nlm-callbacks'

export interface RunningMount {
  /** The mount point's real path. */
  mountpoint: string
  /** Resolves when the mount has gone (stopped, external unmount); value = exit code. */
  done: Promise<number>
  /** Unmounts, commits what open files hold, closes the connections; resolves with `done`. */
  stop(): Promise<number>
  /** Counters of this mount: the stats line and the metrics endpoint both read them. */
  stats(): MountStats
  /** The server-side identity RPCs carry (uid/gid given or resolved by LDAP); null when passed through. */
  serverIdentity: ServerIdentity | null
  /** Since when the server has not answered (a call waited a whole major timeout); null while it answers. */
  notRespondingSince(): Date | null
}

/** The uid, gid and groups a mapped mount sends. */
export interface ServerIdentity {
  uid: number
  gid: number
  gids?: number[]
}

/** Extra facts for a log line; `level` defaults to info. Never holds a secret. */
export interface LogFields {
  level?: 'debug' | 'info' | 'warn' | 'error'
  event?: string
  [key: string]: unknown
}
export type Log = (line: string, fields?: LogFields) => void

export interface MountContext {
  log: Log
  /** Aborting fails a mount still starting (everything undone) and stops a serving one. */
  signal?: AbortSignal
  /** Told of every FUSE operation answered with an error. */
  onOpError?: (op: string, errno: number) => void
  /** Where LDAP_* settings come from (default process.env); a daemon passes the copy it took at start. */
  ldapEnv?: NodeJS.ProcessEnv
  /** LDAP mode: the password itself, held in memory by a daemon that received it (CSI secrets); else password-file is read. */
  ldapPassword?: string
  /**
   * LDAP mode: the identity LDAP resolved for this volume before, used as is (no LDAP call). A
   * daemon restarted without the password puts back the mount its caller had verified.
   */
  resolvedIdentity?: ServerIdentity
}

export async function runMount(o: MountOptions, ctx: MountContext): Promise<RunningMount> {
  const log = ctx.log
  const mountpoint = await checkMountpoint(o.mountpoint)
  await checkPrivileges(o.frontend)
  if (o.frontend === 'libfuse2' && !patchedBindingAvailable()) throw new MountFailure('fuse-native has not been rebuilt with the mapnfs patch (run npm run build)')

  const isRoot = process.getuid?.() === 0
  const reservedPort = o.resvport ?? isRoot
  if (o.resvport === true && !isRoot) throw new MountFailure("option 'resvport' needs root (reserved ports are privileged); use 'noresvport'")

  // Each wait on the network gives way to an abort (SIGTERM to a daemon whose server is down
  // must not wait out every timeout); what arrives too late is closed.
  const step = <T>(p: Promise<T>, late?: (v: T) => void): Promise<T> => unlessAborted(p, ctx.signal, late)
  const server: ServerIdentity | null = o.username !== undefined ? ctx.resolvedIdentity ?? await step(ldapIdentity(o, ctx.ldapEnv, ctx.ldapPassword)) : o.uid !== undefined && o.gid !== undefined ? { uid: o.uid, gid: o.gid } : null
  // The kernel can check permissions locally only when the groups that count on the server are
  // the ones it can see: the caller's own (multi-user) or the one gid shown as the local gid.
  const serverOnlyGroups = server !== null && (server.gids ?? []).some((g) => g !== server.gid)
  const kernelChecks = o.perm ?? !serverOnlyGroups
  const config: IdentityConfig = server !== null
    ? {
        kind: 'mapped',
        ...server,
        ...(o.localUid !== undefined ? { localUid: o.localUid } : {}),
        ...(o.localGid !== undefined ? { localGid: o.localGid } : {}),
        exclusive: !kernelChecks,
      }
    : { kind: 'passthrough' }
  const identity = new IdentityMap(config)
  const codec = XdrCodec.load()
  const timeoutMs = o.timeo * 100
  const rpc = { host: o.source.host, timeoutMs, retrans: o.retrans }
  const cleanups: (() => Promise<void>)[] = []
  const undo = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined)
  }

  try {
    const pmap = { ...rpc, port: PMAP_PORT }
    const host = o.source.host
    const nfsPort = o.nfsPort ?? o.source.port ?? await step(said(`portmapper ${host} port ${PMAP_PORT}`, 'GETPORT', () => getport(codec, pmap, NFS_PROG, NFS_V3)))
    const mountPort = o.mountPort ?? o.source.mountPort ?? await step(said(`portmapper ${host} port ${PMAP_PORT}`, 'GETPORT', () => getport(codec, pmap, MOUNT_PROG, MOUNT_V3)))
    const mountConn = { ...rpc, port: mountPort, reservedPort, maxRecord: 64 * 1024, reconnect: false }
    const mountCred = identity.mountCredential().auth
    const rootFh = await step(said(`MOUNT server ${host} port ${mountPort}`, 'MNT', () => mnt(codec, mountConn, mountCred, o.source.export)))
    cleanups.push(() => umnt(codec, { ...mountConn, timeoutMs: Math.min(timeoutMs, UMNT_TIMEOUT_MS), retrans: 0 }, mountCred, o.source.export))

    // Soft until the mount serves: a server that stops answering now fails the mount, and that
    // failure is the one line said about it (the status lines start once the mount serves).
    let serving = false
    let silentSince: Date | null = null
    const engineOpts: EngineOptions = {
      ...rpc,
      port: nfsPort,
      reservedPort,
      maxRecord: MAX_IO + RECORD_HEADROOM,
      reconnect: true,
      nconnect: o.nconnect,
      onServerStatus: (up) => {
        silentSince = up ? null : silentSince ?? new Date()
        if (serving) {
          log(up ? `server ${host} OK` : `server ${host} not responding, ${o.hard ? 'still trying' : 'timed out'}`,
            { level: up ? 'info' : 'warn', event: up ? 'server-ok' : 'server-not-responding', server: host })
        }
      },
    }
    const workers = o.workers ?? defaultWorkers(availableParallelism())
    const metrics = new EngineMetrics()
    const opened: Engine = await step<Engine>(workers > 0 ? PooledEngine.open({ ...engineOpts, workers }) : InlineEngine.open(engineOpts, codec), (e) => void e.close())
    cleanups.push(() => opened.close())
    const engine = instrumentEngine(opened, metrics)

    // FSINFO and the root GETATTR go through the engine the mount will serve with (the workers'
    // connections when pooled): a server or worker that cannot serve fails the mount here, and
    // errors cross back as the classes `said` knows (engine/wire.ts rehydrates them).
    const raw = identity.rawMountCredential()
    const nfsServer = `NFS server ${host} port ${nfsPort}`
    const info = await step(said(nfsServer, 'FSINFO', () => engine.fsinfo(raw, rootFh)))
    // Servers advertise anything from 8 KiB to 4 GiB: clamp instead of trusting or failing.
    const rsize = clampIo(info.rtmax)
    const wsize = clampIo(info.wtmax)
    const rootAttr = (await step(said(nfsServer, 'GETATTR', () => engine.getattr(raw, rootFh)))).attr!
    if (config.kind === 'mapped') checkRootReadable(rootAttr, config.uid, config.gid)

    const lockKinds = serverLocks(o)
    let locks: FrontEndOptions['locks']
    let lockManager: LockManager | null = null
    if (lockKinds.posix || lockKinds.flock) {
      let status: HostStatus
      try {
        status = hostStatus(o.lockDir)
      } catch (err) {
        throw new MountFailure(`lockdir ${o.lockDir}: ${(err as Error).message}`)
      }
      // Not waited for: a server whose portmapper or lock manager is slow or filtered must not
      // hold up the mount. Lock requests wait for it; as the kernel client, they fail with
      // ENOLCK when the server has no lock manager.
      const manager = startLocks(o, codec, status, { ...rpc, reservedPort, mountpoint, mountAuth: mountCred, log: (line) => log(line, { event: 'locks' }) })
        .catch((err: Error) => {
          log(`locks: ${err.message}; fcntl and flock locks fail with ENOLCK on this mount (mount with nolock to keep them on this host)`, { level: 'warn', event: 'no-locks', server: host })
          return null
        })
      cleanups.push(async () => { await (await manager)?.close() })
      void manager.then((m) => { lockManager = m })
      locks = { manager, ...lockKinds }
    }

    const fuse = createFrontEnd(engine, identity, rootFh, {
      frontend: o.frontend,
      mountpoint,
      fsname: `${o.source.host}:${o.source.export}`,
      rsize,
      wsize,
      readonly: o.readonly,
      sync: o.sync,
      cacheSeconds: o.cache ? CACHE_SECONDS : 0,
      attrMaxAgeMs: o.cache ? CACHE_SECONDS * 1000 : ATTR_REUSE_MS,
      autoCache: o.autoCache,
      defaultPermissions: kernelChecks,
      writeback: o.writeback,
      // Soft: above the longest a single RPC may take, with room for the few an op makes in a
      // row. Hard: none, or fuse-native would answer ETIMEDOUT where the mount promises to wait.
      opTimeoutMs: o.hard ? false : Math.max(60_000, 4 * timeoutMs * (o.retrans + 1)),
      log,
      ...(ctx.onOpError ? { onOpError: ctx.onOpError } : {}),
      ...(locks ? { locks } : {}),
    })
    try {
      await fuse.mount()
    } catch (err) {
      throw new MountFailure(`FUSE mount on ${o.mountpoint} failed: ${(err as Error).message}`)
    }
    let unmounted = false
    const unmountFuse = async (): Promise<void> => {
      if (unmounted) return
      unmounted = true
      await fuse.unmount().catch(() => undefined)
    }
    cleanups.push(unmountFuse)

    await step(waitReady(mountpoint))
    if (ctx.signal?.aborted) throw new MountFailure('interrupted before the mount was ready')
    engine.setHard(o.hard)
    serving = true

    const stats = (): MountStats => mountStats(opened.stats(), metrics.snapshot(), fuse.stats(), { rsize, wsize, workers, nconnect: o.nconnect }, lockManager?.stats() ?? null)
    const printStats = (): void => {
      const now = stats()
      log(statsLine(now), { event: 'stats', stats: statsFields(now) })
    }
    let reconnects = 0
    let stop!: (why: string) => Promise<void>
    const done = new Promise<number>((resolve) => {
      let stopping = false
      stop = async (why: string): Promise<void> => {
        if (stopping) return
        stopping = true
        clearInterval(watch)
        ctx.signal?.removeEventListener('abort', onAbort)
        if (why !== 'gone') await unmountFuse()
        await commitBeforeExit(fuse, engine, o.hard ? STOP_COMMIT_GRACE_MS : null, log)
        if (o.stats) printStats()
        await undo()
        resolve(0)
      }
      const onAbort = (): void => void stop('signal')
      ctx.signal?.addEventListener('abort', onAbort)
      // Someone ran `mapnfs unmount` / `fusermount -u`: libfuse's loop ends without telling us.
      const watch = setInterval(() => {
        const now = opened.stats().reconnects
        if (now > reconnects) {
          log(`reconnected to NFS server ${host} port ${nfsPort} (${now} reconnects so far)`, { event: 'reconnect', server: host, reconnects: now })
          reconnects = now
        }
        if (!isMounted(mountpoint)) {
          unmounted = true
          void stop('gone')
        }
      }, WATCH_INTERVAL_MS)
    })
    return {
      mountpoint,
      done,
      stop: async () => {
        await stop('stop')
        return done
      },
      stats,
      serverIdentity: server === null ? null : { uid: server.uid, gid: server.gid, ...(server.gids !== undefined ? { gids: [...server.gids] } : {}) },
      notRespondingSince: () => silentSince,
    }
  } catch (err) {
    await undo()
    throw err
  }
}

/**
 * The mount's lock manager: the server's NLM port (option, else its portmapper), SM_NOTIFY after
 * a reboot (STATUS), the journal of this mount point. Rejects when the server has no lock
 * manager or it cannot be reached.
 */
async function startLocks(o: MountOptions, codec: XdrCodec, status: HostStatus, c: { host: string; timeoutMs: number; retrans: number; reservedPort: boolean; mountpoint: string; mountAuth: AuthSys; log: (line: string) => void }): Promise<LockManager> {
  if (status.rebooted) {
    // The first mount after a reboot: servers still hold what this host locked before it.
    for (const server of status.servers) {
      await notifyReboot(codec, { host: server, port: PMAP_PORT, timeoutMs: c.timeoutMs, retrans: c.retrans }, [hostname()], status.state).then(
        (names) => c.log(`this host rebooted: told the status monitor on ${server} (SM_NOTIFY as ${names.join(', ')}, state ${status.state}); it drops the locks held before`),
        (err: Error) => c.log(`this host rebooted, but the status monitor on ${server} could not be told (${err.message}): locks held there before the reboot stay until it is`),
      )
    }
  }
  const nlmPort = o.nlmPort ?? await getport(codec, { ...c, port: PMAP_PORT }, NLM_PROG, NLM_VERS)
  rememberServer(o.lockDir, c.host)
  const key = createHash('sha256').update(`${o.sourceText}\0${c.mountpoint}`).digest('hex').slice(0, 24)
  return LockManager.start({
    codec, host: c.host, nlmPort, reservedPort: c.reservedPort, timeoutMs: c.timeoutMs, retrans: c.retrans,
    callerName: hostname(), nsmState: status.state, journalPath: join(o.lockDir, 'mounts', `${key}.json`),
    registryDir: CALLBACK_REGISTRY, mountAuth: c.mountAuth, log: c.log,
  })
}

/**
 * P, or a MountFailure as soon as SIGNAL aborts. A value P still delivers after that goes to LATE
 * (an engine that finished opening must be closed); a late failure is dropped.
 */
function unlessAborted<T>(p: Promise<T>, signal: AbortSignal | undefined, late?: (v: T) => void): Promise<T> {
  if (signal === undefined) return p
  return new Promise<T>((resolve, reject) => {
    let settled = false
    const onAbort = (): void => {
      if (settled) return
      settled = true
      reject(new MountFailure('interrupted before the mount was ready'))
    }
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    p.then((v) => {
      signal.removeEventListener('abort', onAbort)
      if (settled) late?.(v)
      else {
        settled = true
        resolve(v)
      }
    }, (err: unknown) => {
      signal.removeEventListener('abort', onAbort)
      if (!settled) {
        settled = true
        reject(err)
      }
    })
  })
}

/**
 * Runs one of the mount's own calls to SERVER (e.g. "NFS server HOST port N"); a server that did
 * not answer PROC in time or answered bytes that are not a reply fails the mount with a line
 * saying which server, which call and what happened. Other errors pass unchanged.
 */
async function said<T>(server: string, proc: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    if (err instanceof RpcTimeoutError) {
      throw new MountFailure(`${server} did not answer ${proc} within ${(err.ms / 1000).toFixed(1)} s${err.lastDrop !== undefined ? ` (${err.lastDrop})` : ''}`)
    }
    if (err instanceof XdrDecodeError) throw new MountFailure(`${server} answered ${proc} with something that is not a valid reply (${err.message})`)
    throw err
  }
}

/**
 * Commits what open files hold. Soft: every call is bounded already. Hard: waits as long as the
 * server keeps answering (a slow server committing much data is not cut short), and gives up once
 * it has been silent for `graceMs`; the caller then closes the engine, which fails the calls still
 * waiting. What could not be committed is reported, never dropped silently.
 */
async function commitBeforeExit(fs: FrontEnd, engine: Engine, graceMs: number | null, log: Log): Promise<void> {
  const all = fs.commitAll()
  if (graceMs === null) return all
  let finished = false
  void all.then(() => { finished = true })
  let replies = engine.stats().replies
  let quietSince = Date.now()
  while (!finished) {
    await Promise.race([all, new Promise((r) => setTimeout(r, STOP_POLL_MS))])
    const now = engine.stats().replies
    if (now !== replies) {
      replies = now
      quietSince = Date.now()
    } else if (!finished && Date.now() - quietSince >= graceMs) {
      const held = fs.stats().uncommittedBytes ?? 0
      log(`stopping although the server is not answering: ${held} written bytes were not committed and may be lost`)
      return
    }
  }
}

/**
 * LDAP mode: username + password → uid/gid (and optional groups), before any NFS traffic.
 * The password lives in this function only; it is never logged or put in an error.
 */
async function ldapIdentity(o: MountOptions, env: NodeJS.ProcessEnv = process.env, given?: string): Promise<ServerIdentity> {
  const settings = loadLdapSettings(o.ldapConfig, env)
  // Children we start later (fusermount) need not inherit the service password.
  delete process.env.LDAP_SVC_PASS
  if (settings === null) throw new MountFailure('LDAP username is specified but LDAP is not configured')
  const password = given ?? readPassword(o.passwordFile!)
  if (password.length === 0) throw new MountFailure('LDAP username is specified but LDAP password is missing')
  return resolveLdapIdentity(settings, o.username!, password)
}

/** The first line of FILE (or of stdin for '-'); a trailing newline is not part of the password. */
function readPassword(file: string): string {
  let text: string
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8')
  } catch (err) {
    throw new MountFailure(`cannot read the password file ${file === '-' ? '(stdin)' : file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  const nl = text.indexOf('\n')
  return (nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, '')
}

function clampIo(v: number | undefined): number {
  const n = v && v > 0 ? v : 32 * 1024
  return Math.max(MIN_IO, Math.min(MAX_IO, n - (n % 4096) || n))
}

async function checkMountpoint(path: string): Promise<string> {
  let st
  try {
    st = await stat(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new MountFailure(`mount point ${path} does not exist`)
    if (code === 'ENOTCONN') throw new MountFailure(`mount point ${path} is busy (a dead FUSE mount; run: fusermount -u ${path})`)
    throw new MountFailure(`mount point ${path} is not usable: ${code ?? (err as Error).message}`)
  }
  if (!st.isDirectory()) throw new MountFailure(`mount point ${path} is not a directory`)
  const real = await realpath(path)
  if (isMounted(real)) throw new MountFailure(`mount point ${path} is busy (already mounted)`)
  return real
}

async function checkPrivileges(frontend: MountOptions['frontend']): Promise<void> {
  const isRoot = process.getuid?.() === 0
  // The kernel front end mounts with mount(2) itself (no setuid fusermount to do it for us).
  if (frontend === 'kernel' && !isRoot) throw new MountFailure('permission denied: mapnfs must run as root (its FUSE front end mounts with mount(2); frontend=libfuse2 mounts as a user with user_allow_other)')
  try {
    await access('/dev/fuse', fsc.R_OK | fsc.W_OK)
  } catch {
    throw new MountFailure(isRoot
      ? 'cannot use /dev/fuse (is the fuse package installed and the device present?)'
      : 'permission denied: mapnfs must run as root (it needs /dev/fuse and allow_other)')
  }
  // allow_other, which lets the application's uid use the mount, needs user_allow_other for non-root.
  if (!isRoot && !/^\s*user_allow_other\s*$/m.test(readText('/etc/fuse.conf'))) {
    throw new MountFailure('permission denied: non-root mounts need user_allow_other in /etc/fuse.conf (or run as root)')
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

async function waitReady(mountpoint: string): Promise<void> {
  // fs.promises.stat runs on libuv's thread pool, so the main thread stays free to answer the
  // FUSE request it causes (a synchronous stat of our own mount would deadlock).
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    try {
      await access(mountpoint, fsc.F_OK)
      await stat(mountpoint)
      return
    } catch (err) {
      if (Date.now() > deadline) throw new MountFailure(`the mount on ${mountpoint} did not answer: ${(err as Error).message}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

// One subdirectory per volume on an NFS export, for the CSI controller (CreateVolume/DeleteVolume).
// It speaks NFS itself through the same building blocks as a mount (portmapper, MOUNT, the inline
// engine) with the volume's AUTH_SYS identity U:G, so the server owns what it creates as U:G; no
// FUSE and no kernel mount, so a controller needs neither privileges nor /dev/fuse for it.
//
// Every call is soft (a dead server fails it within timeoutMs x (retrans + 1)) and every failure is
// an ExportDirError whose `code` is an errno name and whose message is one line naming the server,
// the export and the directory: the controller hands it to the CO as is.
import { constants as osConstants } from 'node:os'
import { XdrCodec } from '../xdr/codec.js'
import { XdrDecodeError } from '../xdr/errors.js'
import { NF3DIR, NF3REG, type Entryplus3, type Fattr3 } from '../xdr/types.js'
import { MOUNT_PROG, MOUNT_V3, NFS_PROG, NFS_V3, NFS3ERR_BAD_COOKIE, PMAP_PORT } from '../xdr/constants.js'
import { RpcAcceptError, RpcClosedError, RpcConnectError, RpcDeniedError, RpcTimeoutError } from '../rpc/index.js'
import { getport, PortmapError } from '../proto/portmap/client.js'
import { mnt, MountError, umnt } from '../proto/mount/client.js'
import { Nfs3Error, nfsstatName, type CallCredential } from '../proto/nfs3/index.js'
import { errnoName, InlineEngine, type Engine } from '../engine/index.js'
import { IdentityMap } from '../identity/index.js'
import { NAME_MAX, READDIR_DIRCOUNT, READDIR_MAXCOUNT } from '../fuse/nfs-rules.js'
import type { Source } from '../mount/options.js'

export interface ExportTarget {
  /** From parseSource (src/mount/options.ts); ports given there skip the portmapper. */
  source: Source
  /** The server-side identity every call carries (never 0). */
  uid: number
  gid: number
  /** Minor RPC timeout in ms (an unanswered call is sent again after it); default 10 000. */
  timeoutMs?: number
  /** Bind a reserved source port (512-1023) for "secure" exports; default: when running as root. */
  reservedPort?: boolean
}

export type OnDelete = 'delete' | 'retain' | 'archive'

export interface DirStat {
  type: 'dir' | 'file' | 'other'
  uid: number
  gid: number
  /** Permission bits (and set-id/sticky), without the file type. */
  mode: number
}

const EIO = 5

/** A failed operation; `code` is an errno name ('EACCES', 'EEXIST', 'ETIMEDOUT', ...) and `message` one line safe to show. */
export class ExportDirError extends Error {
  readonly errno: number
  constructor(readonly code: string, message: string) {
    super(message)
    this.name = 'ExportDirError'
    this.errno = (osConstants.errno as Record<string, number>)[code] ?? EIO
  }
}

const DEFAULTS = {
  timeoutMs: 10_000,
  /** Resends before a call fails: with the default timeout a silent server fails a call after 30 s. */
  retrans: 2,
  mode: 0o755,
} as const
/** MOUNT replies are small; READDIRPLUS replies are READDIR_MAXCOUNT plus RPC headers. */
const MOUNT_RECORD_MAX = 64 * 1024
const NFS_RECORD_MAX = READDIR_MAXCOUNT + 64 * 1024
/** UMNT is a courtesy to the server's mount list: never let it hold up close(). */
const UMNT_TIMEOUT_MS = 2000
/**
 * Entries listed before they are removed: deleting while paging would invalidate the cookies on
 * some servers, so a directory is listed a batch at a time (crossing READDIRPLUS pages with
 * cookies), the batch removed, and the listing started over. Bounds memory for huge directories.
 */
const LIST_BATCH = 8192
/** REMOVEs in flight at once: enough to hide the round trip, few enough to leave the server to others. */
const REMOVE_CONCURRENCY = 16
/** A directory that is still not empty after this many rounds is being written to while we delete it. */
const EMPTY_ROUNDS = 5
/** Attempts at `archived-NAME-<time>-N` when several archives of NAME land in the same second. */
const ARCHIVE_ATTEMPTS = 100

/**
 * Why a step failed: the errno name, what to tell about it (without the operation's own words),
 * and the nfsstat3 when the server answered one (BAD_COOKIE and EIO share an errno).
 */
class StepError extends Error {
  constructor(readonly code: string, readonly why: string, readonly status?: number) {
    super(why)
  }
}

/** Who is refused what, for an EACCES/EPERM answer. */
interface Denial {
  deny: string
  uid: number
  gid: number
}

export class ExportDirs {
  readonly #engine: Engine
  readonly #root: Buffer
  readonly #cred: CallCredential
  readonly #target: ExportTarget
  readonly #where: string
  readonly #nfsServer: string
  readonly #umnt: () => Promise<void>
  #closing: Promise<void> | null = null

  private constructor(engine: Engine, root: Buffer, cred: CallCredential, target: ExportTarget, nfsServer: string, umount: () => Promise<void>) {
    this.#engine = engine
    this.#root = root
    this.#cred = cred
    this.#target = target
    this.#where = where(target.source)
    this.#nfsServer = nfsServer
    this.#umnt = umount
  }

  /**
   * Reaches the export as MOUNT does for a mount (portmapper unless ports are given, MNT, then
   * GETATTR of the root through the NFS connection). Resolves once both answer; rejects with an
   * ExportDirError (code ECONNREFUSED, ETIMEDOUT, EACCES, ...) with everything opened closed again.
   */
  static async open(t: ExportTarget): Promise<ExportDirs> {
    const at = where(t.source)
    const fail = (err: unknown): ExportDirError => {
      const s = err instanceof StepError ? err : new StepError('EIO', oneLine(err))
      return new ExportDirError(s.code, `cannot open ${at}: ${s.code} (${s.why})`)
    }
    let identity: IdentityMap
    try {
      identity = new IdentityMap({ kind: 'mapped', uid: t.uid, gid: t.gid })
    } catch (err) {
      throw new ExportDirError('EINVAL', `cannot open ${at}: EINVAL (${oneLine(err)})`)
    }
    const timeoutMs = t.timeoutMs ?? DEFAULTS.timeoutMs
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new ExportDirError('EINVAL', `cannot open ${at}: EINVAL (timeoutMs must be a positive number of milliseconds)`)
    const isRoot = process.getuid?.() === 0
    const reservedPort = t.reservedPort ?? isRoot
    if (reservedPort && !isRoot) throw new ExportDirError('EPERM', `cannot open ${at}: EPERM (a reserved source port needs root)`)

    const codec = XdrCodec.load()
    const host = t.source.host
    const rpc = { host, timeoutMs, retrans: DEFAULTS.retrans }
    const pmap = { ...rpc, port: PMAP_PORT }
    const portmapper = `portmapper ${host} port ${PMAP_PORT}`
    const auth = identity.mountCredential().auth
    let umount: (() => Promise<void>) | null = null
    let engine: Engine | null = null
    try {
      const nfsPort = t.source.port ?? await step(portmapper, 'GETPORT', () => getport(codec, pmap, NFS_PROG, NFS_V3))
      const mountPort = t.source.mountPort ?? await step(portmapper, 'GETPORT', () => getport(codec, pmap, MOUNT_PROG, MOUNT_V3))
      const mountConn = { ...rpc, port: mountPort, reservedPort, maxRecord: MOUNT_RECORD_MAX, reconnect: false }
      const root = await step(`MOUNT server ${host} port ${mountPort}`, 'MNT', () => mnt(codec, mountConn, auth, t.source.export))
      umount = () => umnt(codec, { ...mountConn, timeoutMs: Math.min(timeoutMs, UMNT_TIMEOUT_MS), retrans: 0 }, auth, t.source.export)
      const nfsServer = `NFS server ${host} port ${nfsPort}`
      // Reconnect: a server that drops an idle connection must not fail the next call; the calls
      // stay soft all the same (the engine starts soft and nobody turns it hard here).
      engine = await step(nfsServer, 'connect', () => InlineEngine.open({ ...rpc, port: nfsPort, reservedPort, maxRecord: NFS_RECORD_MAX, reconnect: true, nconnect: 1 }, codec))
      const e = engine
      // Raw ids both ways: ownership is judged as the server stores it.
      const cred = identity.rawMountCredential()
      const attr = (await step(nfsServer, 'GETATTR', () => e.getattr(cred, root), { deny: 'use the export root', uid: t.uid, gid: t.gid })).attr
      if (attr !== undefined && attr.type !== NF3DIR) throw new StepError('ENOTDIR', 'the export root is not a directory')
      return new ExportDirs(e, root, cred, t, nfsServer, umount)
    } catch (err) {
      await engine?.close().catch(() => undefined)
      if (umount !== null) await bounded(umount(), UMNT_TIMEOUT_MS)
      throw fail(err)
    }
  }

  /**
   * Creates NAME in the export root as U:G with MODE. Resolves { created: true } after a MKDIR,
   * { created: false } when a directory owned by U:G is there already; rejects with EEXIST when
   * something else is (a non-directory, or a directory of another owner), EINVAL for a bad name.
   */
  async ensureDir(name: string, mode: number = DEFAULTS.mode): Promise<{ created: boolean }> {
    const op = 'create'
    this.#usable(op, name)
    checkName(name, op, this.#where)
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new ExportDirError('EINVAL', `cannot ${op} '${name}' on ${this.#where}: EINVAL (mode ${String(mode)} is not a permission mode)`)
    try {
      const found = await this.#lookup(this.#root, name, 'search the export root')
      if (found !== null) return this.#existing(name, found.attr)
      let made
      try {
        made = await this.#call('MKDIR', () => this.#engine.mkdir(this.#cred, this.#root, name, { mode }), 'write the export root')
      } catch (err) {
        if (err instanceof StepError && (err.code === 'EACCES' || err.code === 'EPERM')) throw new StepError(err.code, await this.#rootDenial(err.why))
        // Someone else (another controller replica, a retry) made it since our LOOKUP.
        if (!(err instanceof StepError) || err.code !== 'EEXIST') throw err
        const now = await this.#lookup(this.#root, name, 'search the export root')
        if (now === null) throw err
        return this.#existing(name, now.attr)
      }
      const fh = made.fh ?? (await this.#lookup(this.#root, name, 'search the export root'))?.fh
      if (fh === undefined) throw new StepError('EIO', `'${name}' vanished right after MKDIR`)
      let attr = made.attr ?? await this.#getattr(fh, name)
      // A set-gid export root hands its group down, and a server umask trims the mode: put both
      // back to what was asked, or the next ensureDir would find someone else's directory.
      if (attr.uid === this.#target.uid && (attr.gid !== this.#target.gid || (attr.mode & 0o7777) !== mode)) {
        const set = await this.#call('SETATTR', () => this.#engine.setattr(this.#cred, fh, { gid: this.#target.gid, mode }), `change the group of '${name}' to ${this.#target.gid}`)
        attr = set.after ?? await this.#getattr(fh, name)
      }
      if (attr.uid !== this.#target.uid || attr.gid !== this.#target.gid) {
        // Squashing servers store another owner: remove what we made so a retry says the same.
        await this.#engine.rmdir(this.#cred, this.#root, name).catch(() => undefined)
        throw new StepError('EPERM', `the server stored it as ${attr.uid}:${attr.gid} instead of ${this.#ids()}${attr.uid !== this.#target.uid ? ' (does the export squash ids?)' : ''}`)
      }
      return { created: true }
    } catch (err) {
      throw this.#fail(op, name, err)
    }
  }

  /** Attributes of NAME in the root as the server stores them, or null when there is no NAME. */
  async stat(name: string): Promise<DirStat | null> {
    const op = 'stat'
    this.#usable(op, name)
    checkName(name, op, this.#where)
    try {
      const found = await this.#lookup(this.#root, name, 'search the export root')
      if (found === null) return null
      const a = found.attr
      return { type: a.type === NF3DIR ? 'dir' : a.type === NF3REG ? 'file' : 'other', uid: a.uid, gid: a.gid, mode: a.mode & 0o7777 }
    } catch (err) {
      throw this.#fail(op, name, err)
    }
  }

  /**
   * What DeleteVolume does to NAME: 'delete' removes it and everything below it (symbolic links
   * are removed, never followed), 'archive' renames it to `archived-NAME` (or, when that exists,
   * `archived-NAME-<UTC yyyymmddThhmmssZ>`), 'retain' leaves it. A missing NAME is success.
   * Resolves with removed: whether NAME was there and is gone now; archivedAs: its new name.
   */
  async deleteDir(name: string, onDelete: OnDelete): Promise<{ removed: boolean; archivedAs?: string }> {
    const op = onDelete === 'archive' ? 'archive' : 'delete'
    this.#usable(op, name)
    checkName(name, op, this.#where)
    if (onDelete !== 'delete' && onDelete !== 'archive' && onDelete !== 'retain') {
      throw new ExportDirError('EINVAL', `cannot delete '${name}' on ${this.#where}: EINVAL (onDelete must be delete, retain or archive, not ${JSON.stringify(onDelete)})`)
    }
    if (onDelete === 'retain') return { removed: false }
    try {
      const found = await this.#lookup(this.#root, name, 'search the export root')
      if (found === null) return { removed: false }
      if (onDelete === 'archive') return { removed: true, archivedAs: await this.#archive(name) }
      if (found.attr.type === NF3DIR) await this.#removeDir(this.#root, name, found.fh, name)
      else await this.#removeName(this.#root, name, name)
      return { removed: true }
    } catch (err) {
      throw this.#fail(op, name, err)
    }
  }

  /** UMNT (at most 2 s) and closes the NFS connection; calls still running fail with EIO. Never rejects. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#engine.close().catch(() => undefined)
      await bounded(this.#umnt(), UMNT_TIMEOUT_MS)
    })()
    return this.#closing
  }

  async #archive(name: string): Promise<string> {
    // RENAME replaces an existing target (an empty directory, a file): look before renaming.
    const base = `archived-${name}`
    let to = base
    if (await this.#lookup(this.#root, to, 'search the export root') !== null) {
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
      to = `${base}-${stamp}`
      for (let n = 2; await this.#lookup(this.#root, to, 'search the export root') !== null; n++) {
        if (n > ARCHIVE_ATTEMPTS) throw new StepError('EEXIST', `'${base}-${stamp}' and ${ARCHIVE_ATTEMPTS - 1} numbered variants exist already`)
        to = `${base}-${stamp}-${n}`
      }
    }
    if (Buffer.byteLength(to) > NAME_MAX) throw new StepError('ENAMETOOLONG', `the archive name '${to}' would be longer than ${NAME_MAX} bytes`)
    await this.#call('RENAME', () => this.#engine.rename(this.#cred, this.#root, name, this.#root, to), `rename '${name}' in the export root`)
    return to
  }

  /** Empties directory FH (at PATH, for messages) and removes it from PARENT. A NAME that went meanwhile is fine. */
  async #removeDir(parent: Buffer, name: string, fh: Buffer, path: string): Promise<void> {
    for (let round = 1; ; round++) {
      await this.#emptyDir(fh, path)
      try {
        await this.#call('RMDIR', () => this.#engine.rmdir(this.#cred, parent, name), `remove ${path}`)
        return
      } catch (err) {
        if (!(err instanceof StepError)) throw err
        if (err.code === 'ENOENT') return
        // RFC 1813 §3.3.13 allows NFS3ERR_EXIST for a directory that is not empty.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err
        if (round >= EMPTY_ROUNDS) throw new StepError('ENOTEMPTY', `${path} kept getting new entries while it was deleted`)
      }
    }
  }

  /** Removes what DIR holds, a listing batch at a time: the files of a batch in parallel, then its directories depth first. */
  async #emptyDir(dir: Buffer, path: string): Promise<void> {
    for (;;) {
      const { entries, eof } = await this.#listBatch(dir, path)
      const dirs: Entryplus3[] = []
      const others: Entryplus3[] = []
      for (const e of entries) {
        const type = e.attr?.type ?? (await this.#lookup(dir, e.name, `search ${path}`))?.attr.type
        if (type === undefined) continue
        ;(type === NF3DIR ? dirs : others).push(e)
      }
      await eachLimit(others, REMOVE_CONCURRENCY, (e) => this.#removeName(dir, e.name, `${path}/${e.name}`))
      for (const e of dirs) {
        const fh = e.fh ?? (await this.#lookup(dir, e.name, `search ${path}`))?.fh
        if (fh !== undefined) await this.#removeDir(dir, e.name, fh, `${path}/${e.name}`)
      }
      if (eof) return
    }
  }

  /**
   * Up to LIST_BATCH entries of DIR (without . and ..) from its start, following READDIRPLUS
   * cookies across pages; eof when the listing reached the end.
   */
  async #listBatch(dir: Buffer, path: string): Promise<{ entries: Entryplus3[]; eof: boolean }> {
    for (let restart = 0; ; restart++) {
      const entries: Entryplus3[] = []
      const seen = new Set<bigint>()
      let cookie = 0n
      let verf = Buffer.alloc(8)
      try {
        for (;;) {
          const r = await this.#call('READDIRPLUS', () => this.#engine.readdirplus(this.#cred, dir, cookie, verf, READDIR_DIRCOUNT, READDIR_MAXCOUNT), `list ${path}`)
          verf = r.cookieverf ?? verf
          const page = r.entries ?? []
          for (const e of page) {
            // A cookie that does not advance would loop forever on a broken server.
            if (e.cookie === cookie || seen.has(e.cookie)) throw new StepError('EIO', `the server returned a repeating READDIRPLUS cookie in ${path}`)
            seen.add(e.cookie)
            cookie = e.cookie
            if (e.name !== '.' && e.name !== '..') entries.push(e)
          }
          if (r.eof === true) return { entries, eof: true }
          if (entries.length >= LIST_BATCH) return { entries, eof: false }
          if (page.length === 0) throw new StepError('EIO', `the server returned no entries and no EOF for ${path}`)
        }
      } catch (err) {
        // RFC 1813 §3.3.17: the cookie went stale (the directory changed); start over once.
        if (!(err instanceof StepError) || err.status !== NFS3ERR_BAD_COOKIE || restart > 0) throw err
      }
    }
  }

  /** REMOVE of a non-directory; one that went meanwhile is fine. */
  async #removeName(dir: Buffer, name: string, path: string): Promise<void> {
    try {
      await this.#call('REMOVE', () => this.#engine.remove(this.#cred, dir, name), `remove ${path}`)
    } catch (err) {
      if (!(err instanceof StepError) || err.code !== 'ENOENT') throw err
    }
  }

  /** LOOKUP of NAME in DIR with its attributes, or null when there is none. */
  async #lookup(dir: Buffer, name: string, deny: string): Promise<{ fh: Buffer; attr: Fattr3 } | null> {
    try {
      const r = await this.#call('LOOKUP', () => this.#engine.lookup(this.#cred, dir, name), deny)
      const fh = r.fh!
      return { fh, attr: r.attr ?? await this.#getattr(fh, name) }
    } catch (err) {
      if (err instanceof StepError && err.code === 'ENOENT') return null
      throw err
    }
  }

  async #getattr(fh: Buffer, name: string): Promise<Fattr3> {
    const r = await this.#call('GETATTR', () => this.#engine.getattr(this.#cred, fh), `read the attributes of '${name}'`)
    return r.attr!
  }

  #existing(name: string, a: Fattr3): { created: false } {
    const owner = `${a.uid}:${a.gid}`
    if (a.type !== NF3DIR) throw new StepError('EEXIST', `'${name}' exists and is ${a.type === NF3REG ? 'a file' : 'not a directory'}, owned by ${owner}`)
    if (a.uid !== this.#target.uid || a.gid !== this.#target.gid) throw new StepError('EEXIST', `'${name}' exists and is owned by ${owner}, not ${this.#ids()}`)
    return { created: false }
  }

  /** WHY with the root's owner and mode, which tell an operator what to fix. */
  async #rootDenial(why: string): Promise<string> {
    return this.#engine.getattr(this.#cred, this.#root).then(
      (r) => (r.attr ? `${why}, owned by ${r.attr.uid}:${r.attr.gid} with mode ${(r.attr.mode & 0o7777).toString(8).padStart(4, '0')}` : why),
      () => why,
    )
  }

  /** One NFS call; DENY says what U:G was refused if the server answers EACCES/EPERM. */
  #call<T>(proc: string, call: () => Promise<T>, deny: string): Promise<T> {
    return step(this.#nfsServer, proc, call, { deny, uid: this.#target.uid, gid: this.#target.gid })
  }

  #ids(): string {
    return `${this.#target.uid}:${this.#target.gid}`
  }

  #usable(op: string, name: string): void {
    if (this.#closing !== null) throw new ExportDirError('EIO', `cannot ${op} '${name}' on ${this.#where}: EIO (this ExportDirs was closed)`)
  }

  #fail(op: string, name: string, err: unknown): ExportDirError {
    const s = err instanceof StepError ? err : new StepError('EIO', oneLine(err))
    return new ExportDirError(s.code, `cannot ${op} '${name}' on ${this.#where}: ${s.code} (${s.why})`)
  }
}

/**
 * Runs CALL, one request to SERVER (as lifecycle.ts's `said` does for a mount); any failure
 * becomes a StepError with the errno name and a few words on what happened.
 */
async function step<T>(server: string, proc: string, call: () => Promise<T>, denial?: Denial): Promise<T> {
  try {
    return await call()
  } catch (err) {
    throw stepError(err, server, proc, denial)
  }
}

function stepError(err: unknown, server: string, proc: string, denial?: Denial): StepError {
  if (err instanceof StepError) return err
  if (err instanceof Nfs3Error) {
    const code = errnoName(err.errno)
    const who = denial ? `uid ${denial.uid} gid ${denial.gid}` : 'this identity'
    let why: string
    if ((code === 'EACCES' || code === 'EPERM') && denial) why = `${who} may not ${denial.deny}`
    else if (code === 'EROFS') why = 'the export is read-only'
    else if (code === 'ENOSPC') why = 'no space left on the export'
    else if (code === 'EDQUOT') why = `${who} is over its quota`
    else if (code === 'ESTALE') why = `${server} no longer knows a file handle of ours (server restarted or export changed); open the export again`
    else why = `${proc} answered ${nfsstatName(err.status)}`
    return new StepError(code, why, err.status)
  }
  if (err instanceof RpcTimeoutError) {
    return new StepError('ETIMEDOUT', `${server} did not answer ${proc} within ${(err.ms / 1000).toFixed(1)} s${err.lastDrop !== undefined ? `, ${err.lastDrop}` : ''}`)
  }
  if (err instanceof RpcConnectError) {
    const code = err.cause.code ?? 'EIO'
    return new StepError(code, `cannot connect to ${server}: ${CONNECT_WORDS[code] ?? code}`)
  }
  if (err instanceof MountError) return new StepError(errnoName(err.errno), err.message)
  if (err instanceof PortmapError) return new StepError('ECONNREFUSED', err.message)
  if (err instanceof RpcDeniedError) return new StepError('EACCES', `${server} refused ${proc}: ${err.message}`)
  if (err instanceof RpcAcceptError) return new StepError('EIO', `${server} did not run ${proc}: ${err.reply.kind}`)
  if (err instanceof RpcClosedError) return new StepError('EIO', `the connection to ${server} was closed during ${proc}`)
  if (err instanceof XdrDecodeError) return new StepError('EIO', `${server} answered ${proc} with something that is not a valid reply (${err.reason})`)
  return new StepError('EIO', `${proc} to ${server} failed: ${oneLine(err)}`)
}

const CONNECT_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'connect timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name lookup failed',
  EACCES: 'not permitted to bind a reserved source port',
  EPERM: 'not permitted to bind a reserved source port',
  EADDRINUSE: 'no reserved source port free',
}

/** NAME must be one path component the server can take, or nothing is sent. */
function checkName(name: string, op: string, at: string): void {
  const bad = (why: string): never => {
    throw new ExportDirError('EINVAL', `cannot ${op} ${JSON.stringify(name)} on ${at}: EINVAL (${why})`)
  }
  if (typeof name !== 'string' || name.length === 0) bad('the name is empty')
  if (name === '.' || name === '..') bad('the name must not be . or ..')
  if (name.includes('/')) bad('the name must be a single path component, without /')
  if (name.includes('\0')) bad('the name contains a NUL byte')
  if (Buffer.byteLength(name) > NAME_MAX) bad(`the name is longer than ${NAME_MAX} bytes`)
}

/** `host:/export` as users write it; an IPv6 address in brackets. */
function where(s: Source): string {
  return `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.export}`
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  return text.split('\n')[0] ?? text
}

/** P, or nothing once MS have passed; never rejects. */
async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    p.catch(() => undefined),
    new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) }),
  ])
  clearTimeout(timer)
}

/** FN over ITEMS, at most LIMIT at a time; stops starting new ones after a failure and rejects with the first. */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const errors: unknown[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (errors.length === 0 && next < items.length) {
      const item = items[next++] as T
      try {
        await fn(item)
      } catch (err) {
        errors.push(err)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (errors.length > 0) throw errors[0]
}

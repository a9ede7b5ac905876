// The filesystem behind the FUSE mount, in FUSE's terms (paths, fds, errno) but without
// fuse-native: adapter.ts is the only module that sees the binding.
//
// Paths resolve to NFS handles through the PathCache; the final component of a path is looked
// up afresh whenever attributes matter, unless a reply gave its attributes less than
// `attrMaxAgeMs` ago (AttrCache: the several requests libfuse makes of one path in one syscall
// share one RPC), so "no caching" still shows the server's state within milliseconds. A handle
// the server calls stale is dropped and the path resolved once more before ESTALE is reported.
import type { Engine } from '../engine/index.js'
import type { Caller, IdentityMap } from '../identity/index.js'
import type { CallCredential } from '../proto/nfs3/index.js'
import { ACCESS3_EXTEND, ACCESS3_MODIFY, ACCESS3_READ, NFS3ERR_BAD_COOKIE } from '../xdr/constants.js'
import type { CreateRes, Fattr3, RemoveRes, Sattr3 } from '../xdr/types.js'
import { GUARDED, NF3DIR, NF3BLK, NF3CHR, NF3FIFO, NF3LNK, NF3SOCK } from '../xdr/types.js'
import { EACCES, EBADF, EINVAL, EIO, ENAMETOOLONG, ENOTDIR, EPERM, EROFS, ESTALE, FsError } from './errno.js'
import { OpenFile } from './open-file.js'
import { accessBits, grants, NAME_MAX, onlyClearsSetId, READDIR_DIRCOUNT, READDIR_MAXCOUNT } from './nfs-rules.js'
import { ReadAheadBudget } from './read-ahead.js'
import { WriteBudget } from './write-behind.js'
import type { FuseOperations, FuseStatfs, TimeArg } from './operations.js'
import { PathCache } from './path-cache.js'
import { AttrCache } from './attr-cache.js'
import { S_IFBLK, S_IFCHR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK, splitDev, toFuseStat, type FuseStat } from './stat.js'

export interface FilesystemOptions {
  /** Negotiated READ size (FSINFO rtmax clamped). */
  rsize: number
  /** Negotiated WRITE size (FSINFO wtmax clamped). */
  wsize: number
  /** Refuse every modification with EROFS. */
  readonly: boolean
  /** Write-through: each write() waits for its WRITE reply instead of write-behind. */
  sync: boolean
  /** How long a resolved directory handle is trusted without a new LOOKUP. */
  dentryTtlMs: number
  /** How long attributes from a reply answer later requests for the same path (AttrCache). */
  attrMaxAgeMs: number
  log: (line: string) => void
}

export interface FilesystemStats {
  /** Written chunks a COMMIT found lost (verifier changed: server restart) and wrote again. */
  rewrittenChunks: number
  /** Operations repeated after a stale handle made us resolve the path again. */
  staleRetries: number
  /** Acknowledged by the server as UNSTABLE but not yet committed, all open files together. */
  uncommittedBytes?: number
  /** Written by applications, not yet acknowledged by the server (write-behind), all open files together. */
  dirtyBytes?: number
}

const O_ACCMODE = 3
const O_WRONLY = 1
const O_RDWR = 2
const FD_MAX = 0xffffffff

export class NfsFilesystem implements FuseOperations {
  readonly #engine: Engine
  readonly #identity: IdentityMap
  readonly #root: Buffer
  readonly #opts: FilesystemOptions
  readonly #paths: PathCache
  readonly #attrs: AttrCache
  readonly #files = new Map<number, OpenFile>()
  // Path of each open file (kept current across renames), and the latest open file per path.
  readonly #filePaths = new Map<OpenFile, string>()
  readonly #openPaths = new Map<string, OpenFile>()
  #nextFd = 1
  readonly #budget = new WriteBudget()
  readonly #readBudget = new ReadAheadBudget()
  readonly #counters: FilesystemStats = { rewrittenChunks: 0, staleRetries: 0 }
  readonly #onRewrite = (n: number): void => {
    this.#counters.rewrittenChunks += n
  }

  constructor(engine: Engine, identity: IdentityMap, root: Buffer, opts: FilesystemOptions) {
    this.#engine = engine
    this.#identity = identity
    this.#root = root
    this.#opts = opts
    this.#paths = new PathCache(opts.dentryTtlMs)
    this.#attrs = new AttrCache(opts.attrMaxAgeMs)
  }

  stats(): FilesystemStats {
    return { ...this.#counters, uncommittedBytes: this.#budget.held - this.#budget.dirty, dirtyBytes: this.#budget.dirty }
  }

  // ---- resolution -------------------------------------------------------------------------

  async #cred(caller: Caller): Promise<CallCredential> {
    return this.#identity.credentialFor(caller)
  }

  /** Handle of a directory path, from the cache when fresh. */
  async #dir(cred: CallCredential, path: string): Promise<Buffer> {
    if (path === '/') return this.#root
    const hit = this.#paths.get(path)
    if (hit) return hit
    const { fh } = await this.#lookup(cred, path)
    return fh
  }

  /** Handle and current attributes of `path`: a LOOKUP of the last component, unless a reply gave them moments ago. */
  async #lookup(cred: CallCredential, path: string): Promise<{ fh: Buffer; attr: Fattr3 }> {
    const hit = this.#attrs.get(cred, path)
    if (hit) return hit
    const since = this.#attrs.generation()
    if (path === '/') {
      const r = await this.#engine.getattr(cred, this.#root)
      this.#attrs.set(cred, path, this.#root, r.attr!, since)
      return { fh: this.#root, attr: r.attr! }
    }
    const [parent, name] = split(path)
    const dir = await this.#dir(cred, parent)
    const r = await this.#engine.lookup(cred, dir, name)
    const fh = r.fh!
    const attr = r.attr ?? (await this.#engine.getattr(cred, fh)).attr!
    this.#paths.set(path, fh)
    this.#attrs.set(cred, path, fh, attr, since)
    // The directory's own attributes ride along: the kernel's permission check on it is next.
    if (r.dirAttr) this.#attrs.set(cred, parent, dir, r.dirAttr, since)
    return { fh, attr }
  }

  /** After a change in directory `parent`: its new attributes from the reply, or none. */
  #dirChanged(cred: CallCredential, parent: string, dir: Buffer, after: Fattr3 | undefined): void {
    this.#attrs.forget(parent)
    if (after) this.#attrs.set(cred, parent, dir, after)
  }

  /** Runs `op`, and once more after dropping cached handles if the server says one is stale. */
  async #retryStale<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op()
    } catch (err) {
      if ((err as { errno?: number }).errno !== ESTALE) throw err
      this.#counters.staleRetries++
      this.#paths.clear()
      this.#attrs.clear()
      return op()
    }
  }

  #writable(): void {
    if (this.#opts.readonly) throw new FsError(EROFS, 'read-only mount')
  }

  #file(fd: number): OpenFile {
    const f = this.#files.get(fd)
    if (!f) throw new FsError(EBADF, `unknown file handle ${fd}`)
    return f
  }

  #addFile(f: OpenFile, path: string): number {
    this.#openPaths.set(path, f)
    this.#filePaths.set(f, path)
    for (let i = 0; i < 16 && this.#files.has(this.#nextFd); i++) this.#nextFd = this.#nextFd >= FD_MAX ? 1 : this.#nextFd + 1
    const fd = this.#nextFd
    this.#nextFd = fd >= FD_MAX ? 1 : fd + 1
    this.#files.set(fd, f)
    return fd
  }

  // ---- attributes -------------------------------------------------------------------------

  async getattr(caller: Caller, path: string): Promise<FuseStat> {
    const cred = await this.#cred(caller)
    // An open file is asked by its handle: fstat() arrives here by path (libfuse 2), and the
    // name may meanwhile have been removed or replaced on the server. A vanished handle is ESTALE.
    const open = this.#openPaths.get(path)
    if (open) return toFuseStat(await this.#openFileAttr(cred, open, path))
    return this.#retryStale(async () => toFuseStat((await this.#lookup(cred, path)).attr))
  }

  /**
   * Attributes of an open file, by its handle: an unlinked-but-open file keeps answering, and
   * a handle the server no longer knows is ESTALE (not a misleading ENOENT from its old path).
   */
  async fgetattr(caller: Caller, fd: number): Promise<FuseStat> {
    // libfuse asks this right after a create, and the kernel when it refreshes an open file: the
    // same reuse bound as by path (fstat(2) itself arrives by path).
    const f = this.#file(fd)
    return toFuseStat(await this.#openFileAttr(await this.#cred(caller), f, this.#filePaths.get(f)))
  }

  /**
   * An open file's attributes, asked by its handle. Its WRITEs go first (the size the server knows
   * must include what was written behind); attributes cached for its path answer only when there
   * was nothing to wait for, and only if they are of this very handle.
   */
  async #openFileAttr(cred: CallCredential, f: OpenFile, path: string | undefined): Promise<Fattr3> {
    const settled = await this.#settle(f.fh)
    const hit = !settled && path !== undefined ? this.#attrs.get(cred, path) : undefined
    if (hit && hit.fh.equals(f.fh)) return hit.attr
    const since = this.#attrs.generation()
    const attr = (await this.#engine.getattr(cred, f.fh)).attr!
    if (path !== undefined) this.#attrs.set(cred, path, f.fh, attr, since)
    // Another client may have changed the file: prefetched data of an older version goes.
    for (const o of this.#files.values()) {
      if (o.fh.equals(f.fh)) o.observe(attr)
    }
    return attr
  }

  /** Another handle of `f`'s file has WRITEs unanswered. */
  #othersDirty(f: OpenFile): boolean {
    for (const o of this.#files.values()) {
      if (o !== f && o.dirty && o.fh.equals(f.fh)) return true
    }
    return false
  }

  /**
   * Waits until no open file of `fh` (but `except`) has a WRITE outstanding, so that what follows
   * (GETATTR, SETATTR, READ, another handle's WRITE) sees and orders after them. Resolves true
   * when there was something to wait for.
   */
  async #settle(fh: Buffer, except?: OpenFile): Promise<boolean> {
    const dirty = [...this.#files.values()].filter((f) => f !== except && f.dirty && f.fh.equals(fh))
    if (dirty.length === 0) return false
    await Promise.all(dirty.map((f) => f.drain()))
    return true
  }

  /** SETATTR on `fh` known as `path`; the reply's new attributes replace what was cached. */
  async #applySetattr(cred: CallCredential, path: string | undefined, fh: Buffer, attrs: Sattr3): Promise<void> {
    await this.#settle(fh)
    // Readahead is dropped when the size change is sent and again when it is answered: a READ sent
    // in between may have been answered with the old size or data.
    if (attrs.size !== undefined) this.#changedData(fh)
    if (path !== undefined) this.#attrs.forget(path)
    const since = this.#attrs.generation()
    try {
      const r = await this.#engine.setattr(cred, fh, attrs)
      if (path !== undefined && r.after) this.#attrs.set(cred, path, fh, r.after, since)
    } finally {
      if (attrs.size !== undefined) this.#changedData(fh)
    }
  }

  async #setattr(caller: Caller, path: string, attrs: Sattr3): Promise<void> {
    this.#writable()
    const cred = await this.#cred(caller)
    await this.#retryStale(async () => {
      const { fh } = await this.#lookup(cred, path)
      await this.#applySetattr(cred, path, fh, attrs)
    })
  }

  async chmod(caller: Caller, path: string, mode: number): Promise<void> {
    this.#writable()
    const cred = await this.#cred(caller)
    const want = mode & 0o7777
    await this.#retryStale(async () => {
      const { fh, attr } = await this.#lookup(cred, path)
      try {
        await this.#applySetattr(cred, path, fh, { mode: want })
      } catch (err) {
        // libfuse 2 has no kill-priv: before a write by someone other than the owner, the kernel
        // asks to drop S_ISUID/S_ISGID with a mode change as that writer, which the server refuses
        // (EPERM). As the kernel NFS client does, leave it to the WRITE: the server clears the
        // bits itself when a non-owner writes. A real chmod by a non-owner that would only clear
        // those bits also lands here, and likewise changes nothing.
        if ((err as { errno?: number }).errno === EPERM && onlyClearsSetId(attr.mode, want)) return
        throw err
      }
    })
  }

  chown(caller: Caller, path: string, uid: number, gid: number): Promise<void> {
    return this.#setattr(caller, path, this.#identity.toServerOwner(uid, gid, caller))
  }

  /**
   * truncate(2) by path, and the truncation of open(O_TRUNC) (libfuse 2 sends it as a path-based
   * size change before the open). Servers let the owner change the size whatever the mode bits
   * (RFC 1813 §4.4, so "create 0444, then write" works), so write permission is asked first with
   * ACCESS, as the kernel NFS client does: without it, O_RDONLY|O_TRUNC on the owner's 0477 file
   * would destroy its data.
   */
  async truncate(caller: Caller, path: string, size: number): Promise<void> {
    this.#writable()
    const cred = await this.#cred(caller)
    await this.#retryStale(async () => {
      const { fh } = await this.#lookup(cred, path)
      const granted = (await this.#engine.access(cred, fh, ACCESS3_MODIFY)).access ?? 0
      if (!(granted & ACCESS3_MODIFY)) throw new FsError(EACCES, `truncate of ${path} denied`)
      await this.#applySetattr(cred, path, fh, { size })
    })
  }

  /** By descriptor: allowed when it was opened for writing (POSIX), whatever the mode says now. */
  async ftruncate(caller: Caller, fd: number, size: number): Promise<void> {
    this.#writable()
    const f = this.#file(fd)
    await this.#applySetattr(await this.#cred(caller), this.#filePaths.get(f), f.fh, { size })
  }

  /** 'now' is UTIME_NOW (the server's clock), 'omit' UTIME_OMIT (leave that time alone). */
  utimens(caller: Caller, path: string, atime: TimeArg, mtime: TimeArg): Promise<void> {
    const attrs: Sattr3 = {}
    if (atime !== 'omit') attrs.atime = atime === 'now' ? 'server' : atime
    if (mtime !== 'omit') attrs.mtime = mtime === 'now' ? 'server' : mtime
    return this.#setattr(caller, path, attrs)
  }

  async access(caller: Caller, path: string, mode: number): Promise<void> {
    const cred = await this.#cred(caller)
    await this.#retryStale(async () => {
      const { fh, attr } = await this.#lookup(cred, path)
      if (mode === 0) return
      const isDir = attr.type === NF3DIR
      const want = accessBits(mode, isDir)
      if (mode & 2 && this.#opts.readonly) throw new FsError(EROFS, 'read-only mount')
      const granted = (await this.#engine.access(cred, fh, want)).access ?? 0
      if (!grants(granted, mode, isDir)) throw new FsError(EACCES, `access ${mode} denied`)
    })
  }

  async statfs(caller: Caller): Promise<FuseStatfs> {
    const cred = await this.#cred(caller)
    const r = await this.#engine.fsstat(cred, this.#root)
    // fuse-native passes 32-bit block counts: grow the fragment size until they fit.
    let frsize = 4096
    while ((r.tbytes ?? 0) / frsize > 0xffffffff) frsize *= 2
    return {
      bsize: frsize,
      frsize,
      blocks: Math.floor((r.tbytes ?? 0) / frsize),
      bfree: Math.floor((r.fbytes ?? 0) / frsize),
      bavail: Math.floor((r.abytes ?? 0) / frsize),
      files: Math.min(r.tfiles ?? 0, 0xffffffff),
      ffree: Math.min(r.ffiles ?? 0, 0xffffffff),
      favail: Math.min(r.afiles ?? 0, 0xffffffff),
      fsid: 0,
      flag: 0,
      namemax: NAME_MAX,
    }
  }

  // ---- directories ------------------------------------------------------------------------

  /**
   * opendir(3)/open(O_DIRECTORY): read permission is asked here, so a directory the caller may
   * not list fails at open with EACCES, as on a local disk, not later at readdir.
   */
  async opendir(caller: Caller, path: string): Promise<void> {
    const cred = await this.#cred(caller)
    await this.#retryStale(async () => {
      const { fh, attr } = await this.#lookup(cred, path)
      if (attr.type !== NF3DIR) throw new FsError(ENOTDIR, `${path} is not a directory`)
      const granted = (await this.#engine.access(cred, fh, ACCESS3_READ)).access ?? 0
      if (!(granted & ACCESS3_READ)) throw new FsError(EACCES, `listing ${path} denied`)
    })
  }

  async readdir(caller: Caller, path: string): Promise<string[]> {
    const cred = await this.#cred(caller)
    return this.#retryStale(async () => {
      const dir = await this.#dir(cred, path)
      for (let restart = 0; ; restart++) {
        try {
          return await this.#readdirOnce(cred, dir, path)
        } catch (err) {
          // RFC 1813 §3.3.16: the cookie went stale (directory changed); start over once.
          if ((err as { status?: number }).status !== NFS3ERR_BAD_COOKIE || restart > 0) throw err
        }
      }
    })
  }

  async #readdirOnce(cred: CallCredential, dir: Buffer, path: string): Promise<string[]> {
    const names: string[] = []
    const seen = new Set<bigint>()
    let cookie = 0n
    let verf = Buffer.alloc(8)
    const prefix = path === '/' ? '/' : path + '/'
    for (;;) {
      const since = this.#attrs.generation()
      const r = await this.#engine.readdirplus(cred, dir, cookie, verf, READDIR_DIRCOUNT, READDIR_MAXCOUNT)
      verf = r.cookieverf ?? verf
      const entries = r.entries ?? []
      if (r.dirAttr) this.#attrs.set(cred, path, dir, r.dirAttr, since)
      for (const e of entries) {
        // A cookie that does not advance would make us loop forever on a broken server.
        if (e.cookie === cookie || seen.has(e.cookie)) {
          throw new FsError(EIO, `server returned a repeating READDIRPLUS cookie in ${path}`)
        }
        seen.add(e.cookie)
        names.push(e.name)
        if (e.fh && e.name !== '.' && e.name !== '..') {
          this.#paths.set(prefix + e.name, e.fh)
          // `ls -l` looks every name up next: READDIRPLUS already brought the answers.
          if (e.attr) this.#attrs.set(cred, prefix + e.name, e.fh, e.attr, since)
        }
        cookie = e.cookie
      }
      if (r.eof) break
      if (entries.length === 0) throw new FsError(EIO, `server returned no entries and no EOF for ${path}`)
    }
    if (!names.includes('.')) names.unshift('.')
    if (!names.includes('..')) names.splice(1, 0, '..')
    return names
  }

  async mkdir(caller: Caller, path: string, mode: number): Promise<void> {
    this.#writable()
    const cred = await this.#cred(caller)
    const [parent, name] = split(path)
    await this.#retryStale(async () => {
      const dir = await this.#dir(cred, parent)
      this.#created(cred, path, parent, dir, await this.#engine.mkdir(cred, dir, name, { mode: mode & 0o7777 }))
    })
  }

  /** After CREATE/MKDIR/SYMLINK/MKNOD: the new name's handle and attributes, the directory's new attributes. */
  #created(cred: CallCredential, path: string, parent: string, dir: Buffer, r: CreateRes): void {
    this.#attrs.forget(path)
    if (r.fh) {
      this.#paths.set(path, r.fh)
      if (r.attr) this.#attrs.set(cred, path, r.fh, r.attr)
    }
    this.#dirChanged(cred, parent, dir, r.dirAfter)
  }

  async rmdir(caller: Caller, path: string): Promise<void> {
    this.#writable()
    const cred = await this.#cred(caller)
    try {
      await this.#removeName(cred, path, (dir, name) => this.#engine.rmdir(cred, dir, name))
    } finally {
      this.#paths.invalidate(path)
      this.#attrs.forgetTree(path)
    }
  }

  /** REMOVE or RMDIR of `path` through `remove`; the directory's new attributes come from the reply. */
  async #removeName(cred: CallCredential, path: string, remove: (dir: Buffer, name: string) => Promise<RemoveRes>): Promise<void> {
    const [parent, name] = split(path)
    await this.#retryStale(async () => {
      const dir = await this.#dir(cred, parent)
      this.#dirChanged(cred, parent, dir, (await remove(dir, name)).dirAfter)
    })
  }

  // ---- names ------------------------------------------------------------------------------

  async unlink(caller: Caller, path: string): Promise<void> {
    this.#writable()
    const cred = await this.#cred(caller)
    // The file's other names (hard links) get a new link count: they go too.
    const fh = this.#attrs.handleOf(path)
    try {
      await this.#removeName(cred, path, (dir, name) => this.#engine.remove(cred, dir, name))
    } finally {
      // A file has nothing below it: only its own entries go.
      this.#paths.forget(path)
      this.#attrs.forget(path)
      if (fh !== undefined) this.#attrs.forgetHandle(fh)
    }
    // libfuse hides open files by renaming them instead; should one be unlinked all the same,
    // its handle must not answer for a new file created under the old name.
    const open = this.#openPaths.get(path)
    if (open) this.#moveOpenPaths(path, `\0removed:${path}`)
  }

  async rename(caller: Caller, from: string, to: string): Promise<void> {
    this.#writable()
    const cred = await this.#cred(caller)
    const [fromParent, fromName] = split(from)
    const [toParent, toName] = split(to)
    // A file the rename replaces loses a link: its other names' counts change.
    const replaced = this.#attrs.handleOf(to)
    try {
      await this.#retryStale(async () => {
        await this.#engine.rename(cred, await this.#dir(cred, fromParent), fromName, await this.#dir(cred, toParent), toName)
      })
    } finally {
      this.#paths.invalidate(from)
      this.#paths.invalidate(to)
      for (const p of [from, to]) this.#attrs.forgetTree(p)
      for (const p of [fromParent, toParent]) this.#attrs.forget(p)
      if (replaced !== undefined) this.#attrs.forgetHandle(replaced)
    }
    this.#moveOpenPaths(from, to)
  }

  #forgetFile(f: OpenFile): void {
    const path = this.#filePaths.get(f)
    this.#filePaths.delete(f)
    if (path === undefined || this.#openPaths.get(path) !== f) return
    this.#openPaths.delete(path)
    for (const [other, p] of this.#filePaths) {
      if (p === path) this.#openPaths.set(path, other)
    }
  }

  /** After rename(from, to): open files at or below `from` now live below `to`; one at `to` was replaced. */
  #moveOpenPaths(from: string, to: string): void {
    if (this.#filePaths.size === 0) return
    const prefix = from + '/'
    this.#openPaths.clear()
    for (const [f, p] of this.#filePaths) {
      let np = p
      if (p === from) np = to
      else if (p.startsWith(prefix)) np = to + p.slice(from.length)
      else if (p === to || p.startsWith(to + '/')) np = `\0replaced:${p}`
      this.#filePaths.set(f, np)
      this.#openPaths.set(np, f)
    }
  }

  async symlink(caller: Caller, target: string, path: string): Promise<void> {
    this.#writable()
    const cred = await this.#cred(caller)
    const [parent, name] = split(path)
    await this.#retryStale(async () => {
      const dir = await this.#dir(cred, parent)
      this.#created(cred, path, parent, dir, await this.#engine.symlink(cred, dir, name, { mode: 0o777 }, target))
    })
  }

  async readlink(caller: Caller, path: string): Promise<string> {
    const cred = await this.#cred(caller)
    return this.#retryStale(async () => {
      const { fh, attr } = await this.#lookup(cred, path)
      if (attr.type !== NF3LNK) throw new FsError(EINVAL, `${path} is not a symbolic link`)
      return (await this.#engine.readlink(cred, fh)).target!.toString('utf8')
    })
  }

  async link(caller: Caller, from: string, to: string): Promise<void> {
    this.#writable()
    const cred = await this.#cred(caller)
    const [parent, name] = split(to)
    try {
      await this.#retryStale(async () => {
        const { fh } = await this.#lookup(cred, from)
        await this.#engine.link(cred, fh, await this.#dir(cred, parent), name)
        // Every name of the file has a new link count.
        this.#attrs.forgetHandle(fh)
      })
    } finally {
      this.#attrs.forget(to)
      this.#attrs.forget(parent)
    }
  }

  async mknod(caller: Caller, path: string, mode: number, dev: number): Promise<void> {
    this.#writable()
    const cred = await this.#cred(caller)
    const [parent, name] = split(path)
    const attrs: Sattr3 = { mode: mode & 0o7777 }
    const kind = mode & S_IFMT
    await this.#retryStale(async () => {
      const dir = await this.#dir(cred, parent)
      const make = (): Promise<CreateRes> => {
        switch (kind) {
          case 0:
          case S_IFREG:
            return this.#engine.create(cred, dir, name, { mode: GUARDED, attrs })
          case S_IFIFO:
            return this.#engine.mknod(cred, dir, name, NF3FIFO, attrs)
          case S_IFSOCK:
            return this.#engine.mknod(cred, dir, name, NF3SOCK, attrs)
          case S_IFCHR:
          case S_IFBLK:
            return this.#engine.mknod(cred, dir, name, kind === S_IFCHR ? NF3CHR : NF3BLK, attrs, splitDev(dev))
          default:
            throw new FsError(EPERM, `cannot create file type ${kind.toString(8)}`)
        }
      }
      this.#created(cred, path, parent, dir, await make())
    })
  }

  // ---- files ------------------------------------------------------------------------------

  async open(caller: Caller, path: string, flags: number): Promise<number> {
    const acc = flags & O_ACCMODE
    const wantsWrite = acc === O_WRONLY || acc === O_RDWR
    if (wantsWrite) this.#writable()
    const cred = await this.#cred(caller)
    return this.#retryStale(async () => {
      const { fh, attr } = await this.#lookup(cred, path)
      // Like the kernel NFS client: ask the server at open, so a denied open fails at open().
      const want = (acc === O_WRONLY ? 0 : ACCESS3_READ) | (wantsWrite ? ACCESS3_MODIFY | ACCESS3_EXTEND : 0)
      if (attr.type !== NF3DIR) {
        const granted = (await this.#engine.access(cred, fh, want)).access ?? 0
        if ((want & ACCESS3_READ && !(granted & ACCESS3_READ)) ||
            (wantsWrite && !(granted & (ACCESS3_MODIFY | ACCESS3_EXTEND)))) {
          throw new FsError(EACCES, `open of ${path} denied`)
        }
      }
      return this.#addFile(this.#newFile(fh, cred, wantsWrite), path)
    })
  }

  async create(caller: Caller, path: string, mode: number): Promise<number> {
    this.#writable()
    const cred = await this.#cred(caller)
    const [parent, name] = split(path)
    return this.#retryStale(async () => {
      const dir = await this.#dir(cred, parent)
      const r = await this.#engine.create(cred, dir, name, { mode: GUARDED, attrs: { mode: mode & 0o7777 } })
      // RFC 1813 lets a server omit the new handle; then it has to be looked up.
      const fh = r.fh ?? (await this.#engine.lookup(cred, dir, name)).fh!
      this.#created(cred, path, parent, dir, { ...r, fh })
      return this.#addFile(this.#newFile(fh, cred, true), path)
    })
  }

  #newFile(fh: Buffer, cred: CallCredential, writable: boolean): OpenFile {
    const f: OpenFile = new OpenFile(this.#engine, fh, cred, writable, {
      rsize: this.#opts.rsize,
      wsize: this.#opts.wsize,
      sync: this.#opts.sync,
      writeBudget: this.#budget,
      readBudget: this.#readBudget,
      onRewrite: this.#onRewrite,
      // Size and times changed: a LOOKUP answered meanwhile may predate the WRITE, and so may a READ
      // of any handle of the file, this one included, sent while the WRITE was on its way.
      onWritten: () => {
        const path = this.#filePaths.get(f)
        if (path !== undefined) this.#attrs.forget(path)
        this.#changedData(f.fh)
      },
    })
    return f
  }

  /** The data of `fh` changed: what other open files of it prefetched may be stale. */
  #changedData(fh: Buffer, except?: OpenFile): void {
    for (const f of this.#files.values()) {
      if (f !== except && f.fh.equals(fh)) f.dropReadAhead()
    }
  }

  /**
   * The kernel may read through one handle what it wrote through another (mmap writes go out
   * through any writable handle of the file; so do writes of another process): the WRITEs of every
   * handle of the file are answered first, as they are for a GETATTR.
   */
  async read(fd: number, into: Buffer, length: number, offset: number): Promise<number> {
    const f = this.#file(fd)
    if (this.#budget.dirty > 0) await this.#settle(f.fh)
    return f.read(into, length, offset)
  }

  async write(fd: number, data: Buffer, offset: number): Promise<number> {
    this.#writable()
    // `data` is the kernel's buffer, ours only until we answer; the chunks may be needed again
    // for a rewrite after a server restart, so they are kept as a copy.
    const f = this.#file(fd)
    // Each handle writes behind on its own: what another handle of the file has not had answered
    // yet could land on the server after this write and undo it where they overlap (the kernel
    // writes mmap'ed pages through any writable handle). So those go first.
    if (this.#budget.dirty > 0 && this.#othersDirty(f)) {
      // The kernel's buffer is ours only until this returns its promise (FuseOperations.write).
      const copy = Buffer.from(data)
      await this.#settle(f.fh, f)
      data = copy
    }
    // Size and times change now, and again when the WRITE is answered (onWritten). Other names of
    // a hard-linked file may show the old ones for the reuse bound.
    const path = this.#filePaths.get(f)
    if (path !== undefined) this.#attrs.forget(path)
    if (this.#files.size > 1) this.#changedData(f.fh, f)
    return f.write(data, offset)
  }

  flush(fd: number): Promise<void> {
    return this.#file(fd).sync()
  }

  fsync(fd: number): Promise<void> {
    return this.#file(fd).sync()
  }

  async release(fd: number): Promise<void> {
    const f = this.#file(fd)
    try {
      await f.sync()
    } finally {
      f.discard()
      this.#files.delete(fd)
      this.#forgetFile(f)
    }
  }

  /** Commits every open file (unmount path). Resolves when all are done; logs failures. */
  async commitAll(): Promise<void> {
    await Promise.all([...this.#files.values()].map((f) => f.sync().catch((err: Error) => {
      this.#opts.log(`commit on unmount failed: ${err.message}`)
    })))
  }
}

function split(path: string): [string, string] {
  const i = path.lastIndexOf('/')
  const parent = i <= 0 ? '/' : path.slice(0, i)
  const name = path.slice(i + 1)
  if (name.length === 0 || name === '.' || name === '..') throw new FsError(EINVAL, `invalid path ${path}`)
  if (Buffer.byteLength(name) > NAME_MAX) throw new FsError(ENAMETOOLONG, 'name too long')
  return [parent, name]
}

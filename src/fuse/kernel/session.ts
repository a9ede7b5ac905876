// One FUSE connection's protocol: INIT negotiation, then each request decoded, handed to the
// NodeOperations, and answered with exactly one reply once its promise settles (FORGET,
// BATCH_FORGET, INTERRUPT and NOTIFY_REPLY get none).
//
//   device read ──► handle(buf, n) ── decode in place (names become strings; WRITE data is a view
//        │             │               of the read buffer, copied by fs.write before it returns)
//        │             └─► fs.op(caller, ...) ──promise──► encode into a reply buffer ──► one write(2)
//        └── next read reuses buf as soon as handle() returns
//
// Reply buffers: small replies are encoded into one shared buffer, synchronously when the promise
// settles, and written at once (so no two replies share it at a time). READ and READDIR replies
// need their buffer while the filesystem fills it: those come from a pool (header + payload, so a
// reply is still one write).
//
// Lookup counts: an entry reply the kernel did not take (its write got ENOENT: the request was
// interrupted meanwhile) is forgotten again at once, as is an open handle (released), so the
// filesystem's counts stay those of the kernel.
import { constants } from 'node:os'
import type { Caller } from '../../identity/index.js'
import { toErrno } from '../errno.js'
import type { FileLock, KernelNotifier, Negotiated, NodeAttr, NodeEntry, NodeOpen, NodeOperations } from '../node-operations.js'
import type { FuseStatfs } from '../operations.js'
import * as abi from './abi.js'
import {
  ATTR_OUT_SIZE, ENTRY_OUT_SIZE, FORGET_ONE_SIZE, IN_HEADER_SIZE, INIT_OUT_SIZE, OPEN_OUT_SIZE, OUT_HEADER_SIZE,
  STATFS_OUT_SIZE, WRITE_OUT_SIZE,
} from './abi.js'
import {
  DirentWriter, getU64, readInitIn, readName, readSetattrIn, writeAttrOut, writeEntryOut, writeInitOut, writeOpenOut,
  writeOutHeader, writeStatfsOut, type InitOut,
} from './codec.js'
import { KernelFuseError } from './errors.js'
import { DeviceNotifier } from './notifier.js'

const { EINVAL, EIO, ENOSYS, EOPNOTSUPP, ENOTTY, EPROTO } = constants.errno
/** Argument bytes start right after the in_header. */
const A = IN_HEADER_SIZE
/** The shared reply buffer: the largest fixed reply (CREATE: entry + open) or a PATH_MAX symlink target. */
const SHARED_OUT = 8192

/** Where replies go: the device (device.ts) or a test's capture. */
export interface ReplyChannel {
  /** One write(2) of LENGTH bytes of BUF; false when the kernel did not take it (request gone, connection gone). */
  reply(buf: Buffer, length: number): boolean
  /** An unsolicited message, written off the event loop (see notifier.ts). */
  notify(message: Buffer): void
}

export interface SessionOptions {
  /** max_write we answer INIT with, in bytes (1 MiB: fio's 1 MiB writes arrive as one request). */
  maxWrite: number
  /** The mount's max_read: the largest READ the kernel will send. */
  maxRead: number
  /** Upper bound on the kernel's readahead we accept (the kernel's offer is the other bound). */
  maxReadahead: number
  /** Ask for FUSE_WRITEBACK_CACHE (the kernel then merges writes in its page cache). */
  writebackCache: boolean
  /** Also ask for FUSE_READDIRPLUS_AUTO (plain READDIR when the kernel thinks attributes are not wanted). */
  readdirplusAuto: boolean
  /** Kernel requests in the background (readahead, async writes) before it blocks new ones. */
  maxBackground: number
  /** Unexpected errors (toErrno's EIO cases) and protocol trouble, one line each. */
  log: (line: string) => void
  /** Told of every error reply to a request the filesystem answered (not of ENOSYS for ops we do not implement). */
  onOpError?: (op: string, errno: number) => void
}

export const SESSION_DEFAULTS: Omit<SessionOptions, 'log' | 'onOpError'> = {
  maxWrite: 1 << 20,
  maxRead: 1 << 20,
  maxReadahead: 1 << 20,
  writebackCache: false,
  readdirplusAuto: false,
  maxBackground: 64,
}

/** The outcome of INIT, for logs and tests. */
export interface InitInfo {
  kernelMajor: number
  kernelMinor: number
  kernelMaxReadahead: number
  /** Flag names the kernel offered (flags, then flags2). */
  offered: string[]
  offered2: string[]
  requested: string[]
  /** What we asked for and the kernel offered: what is in force. */
  granted: string[]
  reply: InitOut
}

/** Free buffers of one capacity, kept for reuse (READ and READDIR replies). */
class BufferPool {
  readonly #free: Buffer[] = []
  constructor(readonly capacity: number, readonly keep: number) {}

  /** A buffer of at least N bytes. */
  take(n: number): Buffer {
    if (n > this.capacity) return Buffer.allocUnsafeSlow(n)
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.capacity)
  }

  give(buf: Buffer): void {
    if (buf.length === this.capacity && this.#free.length < this.keep) this.#free.push(buf)
  }
}

/**
 * The protocol engine of one /dev/fuse connection. handle() takes each request the device read;
 * replies go to the channel. `ready` resolves once INIT is answered.
 */
export class Session {
  /** Resolves with what INIT agreed once its reply is written; rejects (ERR_FUSE_PROTOCOL) if the connection ends first. */
  readonly ready: Promise<InitInfo>
  /** Largest READ and WRITE sizes seen (for the benchmarks and tests). */
  largestRead = 0
  largestWrite = 0
  requests = 0

  readonly #channel: ReplyChannel
  readonly #fs: NodeOperations
  readonly #o: SessionOptions
  readonly #out = Buffer.alloc(SHARED_OUT)
  readonly #odv = new DataView(this.#out.buffer, this.#out.byteOffset, SHARED_OUT)
  readonly #small: BufferPool
  readonly #large: BufferPool
  #inBuf: Buffer | undefined
  #inDv: DataView | undefined
  #init: InitInfo | undefined
  #negotiated: Negotiated | undefined
  #closed = false
  /** Lock requests reach the filesystem (POSIX_LOCKS or FLOCK_LOCKS in force). */
  #locks = false
  /** SETLKW requests waiting for their lock, by unique: FUSE_INTERRUPT aborts them. */
  readonly #waitingLocks = new Map<string, AbortController>()
  #resolveReady!: (i: InitInfo) => void
  #rejectReady!: (e: Error) => void

  constructor(channel: ReplyChannel, fs: NodeOperations, opts: Partial<SessionOptions> & Pick<SessionOptions, 'log'>) {
    this.#channel = channel
    this.#fs = fs
    this.#o = { ...SESSION_DEFAULTS, ...opts }
    // Small: 4 KiB readdir pages and small reads; large: a max_read READ. Kept: enough for the
    // requests the kernel has in flight at once in the common case; more are allocated and dropped.
    this.#small = new BufferPool(OUT_HEADER_SIZE + 64 * 1024, 16)
    this.#large = new BufferPool(OUT_HEADER_SIZE + Math.max(this.#o.maxRead, this.#o.maxWrite), 8)
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve
      this.#rejectReady = reject
    })
    this.ready.catch(() => undefined) // the mount awaits it; a session nobody waits on must not crash the process
  }

  /**
   * Bytes the device must read into: a whole WRITE (header + write_in + max_write) with room to
   * spare; the kernel refuses a read into less than that (EINVAL).
   */
  get readBufferSize(): number {
    return Math.max(abi.FUSE_MIN_READ_BUFFER, this.#o.maxWrite + 4096)
  }

  get negotiated(): Negotiated | undefined {
    return this.#negotiated
  }

  get initInfo(): InitInfo | undefined {
    return this.#init
  }

  /** The connection ended: replies still to come are dropped; `ready` rejects if INIT never came. */
  close(why: string): void {
    this.#closed = true
    if (this.#init === undefined) this.#rejectReady(new KernelFuseError('ERR_FUSE_PROTOCOL', EPROTO, `the kernel ended the connection before INIT (${why})`))
  }

  /** One request: LENGTH bytes of BUF, valid until this returns. Never throws. */
  handle(buf: Buffer, length: number): void {
    if (buf !== this.#inBuf) {
      this.#inBuf = buf
      this.#inDv = new DataView(buf.buffer, buf.byteOffset, buf.length)
    }
    const dv = this.#inDv!
    this.requests++
    if (length < OUT_HEADER_SIZE) {
      this.#o.log(`short request from the kernel (${length} bytes): dropped`)
      return
    }
    const op = dv.getUint32(4, true)
    const lo = dv.getUint32(8, true)
    const hi = dv.getUint32(12, true)
    try {
      if (length < IN_HEADER_SIZE || dv.getUint32(0, true) !== length) {
        throw new KernelFuseError('ERR_FUSE_REQUEST', EIO, `request length ${length} does not match its header`)
      }
      this.#dispatch(buf, dv, length, op, lo, hi)
    } catch (err) {
      this.#fail(op, lo, hi, err)
    }
  }

  #dispatch(buf: Buffer, dv: DataView, n: number, op: number, lo: number, hi: number): void {
    const fs = this.#fs
    const nodeid = getU64(dv, 16)
    if (op === abi.FUSE_INIT) return this.#answerInit(dv, n, lo, hi)
    if (this.#init === undefined) throw new KernelFuseError('ERR_FUSE_REQUEST', EIO, `opcode ${op} before INIT`)
    switch (op) {
      case abi.FUSE_FORGET:
        need(n, abi.FORGET_IN_SIZE)
        return this.#forget(nodeid, getU64(dv, A))
      case abi.FUSE_BATCH_FORGET: {
        need(n, abi.BATCH_FORGET_IN_SIZE)
        const count = dv.getUint32(A, true)
        const fit = Math.min(count, Math.floor((n - A - abi.BATCH_FORGET_IN_SIZE) / FORGET_ONE_SIZE))
        if (fit < count) this.#o.log(`BATCH_FORGET of ${count} entries carries only ${fit}`)
        for (let i = 0, o = A + abi.BATCH_FORGET_IN_SIZE; i < fit; i++, o += FORGET_ONE_SIZE) this.#forget(getU64(dv, o), getU64(dv, o + 8))
        return
      }
      // Only a waiting lock gives up (EINTR); any other request is answered in full, which the
      // protocol allows.
      case abi.FUSE_INTERRUPT:
        need(n, abi.INTERRUPT_IN_SIZE)
        this.#waitingLocks.get(uniqueKey(dv.getUint32(A, true), dv.getUint32(A + 4, true)))?.abort()
        return
      // Answers to FUSE_NOTIFY_RETRIEVE, which we never send.
      case abi.FUSE_NOTIFY_REPLY:
        return
      case abi.FUSE_DESTROY:
        // Sent to fuseblk mounts only; a plain fuse mount just ends with ENODEV.
        return this.#replyEmpty(lo, hi)
      case abi.FUSE_LOOKUP: {
        const { name } = readName(buf, A, n)
        return this.#entry(op, lo, hi, fs.lookup(caller(dv), nodeid, name))
      }
      case abi.FUSE_GETATTR: {
        need(n, abi.GETATTR_IN_SIZE)
        const fh = dv.getUint32(A, true) & abi.FUSE_GETATTR_FH ? getU64(dv, A + 8) : undefined
        return this.#attr(op, lo, hi, fs.getattr(caller(dv), nodeid, fh))
      }
      case abi.FUSE_SETATTR: {
        const { fh, set } = readSetattrIn(dv, A, n - A)
        return this.#attr(op, lo, hi, fs.setattr(caller(dv), nodeid, fh, set))
      }
      case abi.FUSE_READLINK:
        return this.#settle(op, lo, hi, fs.readlink(caller(dv), nodeid), (target) => this.#replyBytes(lo, hi, target))
      case abi.FUSE_SYMLINK: {
        const name = readName(buf, A, n)
        const target = readName(buf, name.next, n)
        return this.#entry(op, lo, hi, fs.symlink(caller(dv), nodeid, name.name, target.name))
      }
      case abi.FUSE_MKNOD: {
        need(n, abi.MKNOD_IN_SIZE)
        const { name } = readName(buf, A + abi.MKNOD_IN_SIZE, n)
        return this.#entry(op, lo, hi, fs.mknod(caller(dv), nodeid, name, dv.getUint32(A, true), dv.getUint32(A + 4, true)))
      }
      case abi.FUSE_MKDIR: {
        need(n, abi.MKDIR_IN_SIZE)
        const { name } = readName(buf, A + abi.MKDIR_IN_SIZE, n)
        return this.#entry(op, lo, hi, fs.mkdir(caller(dv), nodeid, name, dv.getUint32(A, true)))
      }
      case abi.FUSE_LINK: {
        need(n, abi.LINK_IN_SIZE)
        const { name } = readName(buf, A + abi.LINK_IN_SIZE, n)
        return this.#entry(op, lo, hi, fs.link(caller(dv), getU64(dv, A), nodeid, name))
      }
      case abi.FUSE_UNLINK:
      case abi.FUSE_RMDIR: {
        const { name } = readName(buf, A, n)
        const c = caller(dv)
        return this.#empty(op, lo, hi, op === abi.FUSE_UNLINK ? fs.unlink(c, nodeid, name) : fs.rmdir(c, nodeid, name))
      }
      case abi.FUSE_RENAME:
      case abi.FUSE_RENAME2: {
        const size = op === abi.FUSE_RENAME2 ? abi.RENAME2_IN_SIZE : abi.RENAME_IN_SIZE
        need(n, size)
        const from = readName(buf, A + size, n)
        const to = readName(buf, from.next, n)
        const flags = op === abi.FUSE_RENAME2 ? dv.getUint32(A + 8, true) : 0
        return this.#empty(op, lo, hi, fs.rename(caller(dv), nodeid, from.name, getU64(dv, A), to.name, flags))
      }
      case abi.FUSE_OPEN:
        need(n, abi.OPEN_IN_SIZE)
        return this.#open(op, lo, hi, fs.open(caller(dv), nodeid, dv.getUint32(A, true)), false)
      case abi.FUSE_OPENDIR:
        need(n, abi.OPEN_IN_SIZE)
        return this.#open(op, lo, hi, fs.opendir(caller(dv), nodeid), true)
      case abi.FUSE_CREATE: {
        need(n, abi.CREATE_IN_SIZE)
        const { name } = readName(buf, A + abi.CREATE_IN_SIZE, n)
        const p = fs.create(caller(dv), nodeid, name, dv.getUint32(A + 4, true), dv.getUint32(A, true))
        return this.#settle(op, lo, hi, p, (r) => this.#replyCreate(lo, hi, r.entry, r.open))
      }
      case abi.FUSE_READ:
        need(n, abi.READ_IN_SIZE)
        return this.#read(op, lo, hi, getU64(dv, A), getU64(dv, A + 8), dv.getUint32(A + 16, true))
      case abi.FUSE_WRITE: {
        need(n, abi.WRITE_IN_SIZE)
        const size = dv.getUint32(A + 16, true)
        const at = A + abi.WRITE_IN_SIZE
        if (at + size > n) throw new KernelFuseError('ERR_FUSE_REQUEST', EINVAL, `WRITE of ${size} bytes carries ${n - at}`)
        if (size > this.largestWrite) this.largestWrite = size
        // A view of the read buffer: fs.write copies what it keeps before it returns its promise.
        const p = fs.write(caller(dv), getU64(dv, A), buf.subarray(at, at + size), getU64(dv, A + 8))
        return this.#settle(op, lo, hi, p, (count) => this.#replyWrite(lo, hi, count, size))
      }
      case abi.FUSE_FLUSH:
        need(n, abi.FLUSH_IN_SIZE)
        return this.#empty(op, lo, hi, fs.flush(getU64(dv, A), this.#locks ? dv.getBigUint64(A + 16, true) : undefined))
      case abi.FUSE_RELEASE: {
        need(n, abi.RELEASE_IN_SIZE)
        const flock = (dv.getUint32(A + 12, true) & abi.FUSE_RELEASE_FLOCK_UNLOCK) !== 0
        return this.#empty(op, lo, hi, fs.release(getU64(dv, A), flock ? dv.getBigUint64(A + 16, true) : undefined))
      }
      case abi.FUSE_GETLK:
      case abi.FUSE_SETLK:
      case abi.FUSE_SETLKW:
        return this.#lock(op, lo, hi, dv, n, nodeid)
      case abi.FUSE_RELEASEDIR:
        need(n, abi.RELEASE_IN_SIZE)
        return this.#empty(op, lo, hi, fs.releasedir(getU64(dv, A)))
      case abi.FUSE_FSYNC:
        need(n, abi.FSYNC_IN_SIZE)
        return this.#empty(op, lo, hi, fs.fsync(getU64(dv, A), (dv.getUint32(A + 8, true) & abi.FUSE_FSYNC_FDATASYNC) !== 0))
      case abi.FUSE_READDIRPLUS:
      case abi.FUSE_READDIR:
        need(n, abi.READ_IN_SIZE)
        return this.#readdir(op, lo, hi, caller(dv), nodeid, getU64(dv, A), dv.getBigUint64(A + 8, true), dv.getUint32(A + 16, true))
      case abi.FUSE_STATFS:
        return this.#settle(op, lo, hi, fs.statfs(caller(dv), nodeid), (s) => this.#replyStatfs(lo, hi, s))
      case abi.FUSE_ACCESS:
        need(n, abi.ACCESS_IN_SIZE)
        return this.#empty(op, lo, hi, fs.access(caller(dv), nodeid, dv.getUint32(A, true)))
      // Not implemented, answered so that the kernel stops asking. ENOSYS makes it remember per
      // connection: xattr calls then fail with EOPNOTSUPP, fsyncdir/syncfs succeed locally, lseek
      // uses the generic one, copy_file_range falls back to read/write, poll to DEFAULT_POLLMASK,
      // STATX (7.39+, sent even to a 7.38 daemon) to GETATTR.
      case abi.FUSE_FALLOCATE:
        return this.#replyError(lo, hi, EOPNOTSUPP)
      case abi.FUSE_IOCTL:
        return this.#replyError(lo, hi, ENOTTY)
      default:
        return this.#replyError(lo, hi, ENOSYS)
    }
  }

  // ---- locks ------------------------------------------------------------------------------

  #lock(op: number, lo: number, hi: number, dv: DataView, n: number, nodeid: number): void {
    const fs = this.#fs
    if ((op === abi.FUSE_GETLK ? fs.getlk : fs.setlk) === undefined) return this.#replyError(lo, hi, ENOSYS)
    need(n, abi.LK_IN_SIZE)
    const fh = getU64(dv, A)
    const owner = dv.getBigUint64(A + 8, true)
    const lock: FileLock = {
      start: dv.getBigUint64(A + 16, true),
      end: dv.getBigUint64(A + 24, true),
      type: dv.getUint32(A + 32, true),
      pid: dv.getUint32(A + 36, true),
    }
    const flock = (dv.getUint32(A + 40, true) & abi.FUSE_LK_FLOCK) !== 0
    if (op === abi.FUSE_GETLK) return this.#settle(op, lo, hi, fs.getlk!(caller(dv), nodeid, fh, owner, lock), (l) => this.#replyLock(lo, hi, l))
    const abort = new AbortController()
    const key = uniqueKey(lo, hi)
    this.#waitingLocks.set(key, abort)
    const p = fs.setlk!(caller(dv), nodeid, fh, owner, lock, { wait: op === abi.FUSE_SETLKW, flock, signal: abort.signal })
    p.then(() => this.#waitingLocks.delete(key), () => this.#waitingLocks.delete(key))
    return this.#empty(op, lo, hi, p)
  }

  #replyLock(lo: number, hi: number, l: FileLock): void {
    const d = this.#odv
    d.setBigUint64(OUT_HEADER_SIZE, l.start, true)
    d.setBigUint64(OUT_HEADER_SIZE + 8, l.end, true)
    d.setUint32(OUT_HEADER_SIZE + 16, l.type, true)
    d.setUint32(OUT_HEADER_SIZE + 20, l.pid, true)
    this.#send(lo, hi, OUT_HEADER_SIZE + abi.LK_OUT_SIZE)
  }

  // ---- INIT -------------------------------------------------------------------------------

  #answerInit(dv: DataView, n: number, lo: number, hi: number): void {
    const kin = readInitIn(dv, A, n - A)
    const o = this.#o
    if (kin.major < abi.FUSE_KERNEL_VERSION) {
      this.#o.log(`the kernel speaks FUSE ${kin.major}.${kin.minor}; 7.x is required`)
      return this.#replyError(lo, hi, EPROTO)
    }
    if (kin.major > abi.FUSE_KERNEL_VERSION) {
      // Protocol: answer our major alone; the kernel sends INIT again at that major.
      const reply: InitOut = { major: abi.FUSE_KERNEL_VERSION, minor: abi.FUSE_KERNEL_MINOR_VERSION, maxReadahead: 0, flags: 0, maxBackground: 0, congestionThreshold: 0, maxWrite: 0, timeGran: 0, maxPages: 0, flags2: 0 }
      writeInitOut(this.#odv, OUT_HEADER_SIZE, reply)
      this.#send(lo, hi, OUT_HEADER_SIZE + INIT_OUT_SIZE)
      return
    }
    if (this.#init !== undefined) throw new KernelFuseError('ERR_FUSE_REQUEST', EIO, 'second INIT')
    const locks = this.#fs.lockModes?.() ?? { posix: false, flock: false }
    // Asked for (each: what it buys):
    //   ASYNC_READ      several READs of one file in flight (readahead in parallel)
    //   BIG_WRITES, MAX_PAGES + max_write   WRITEs up to max_write (1 MiB) instead of 4 KiB / 128 KiB
    //   ASYNC_DIO       O_DIRECT I/O split into parallel requests
    //   DO_READDIRPLUS  attributes with each entry (one NFS READDIRPLUS, no LOOKUP per name)
    //   ATOMIC_O_TRUNC  O_TRUNC with OPEN, no separate SETATTR(size 0)
    //   HANDLE_KILLPRIV_V2  the filesystem (the NFS server) clears suid/sgid on write/chown/truncate
    //   EXPORT_SUPPORT  LOOKUP of "." and ".." may come (the mount can be re-exported)
    //   AUTO_INVAL_DATA the kernel drops a file's cached pages when it sees mtime/size change
    //   PARALLEL_DIROPS lookups and readdirs of one directory in parallel
    //   POSIX_LOCKS, FLOCK_LOCKS  fcntl and flock locks come to us (the filesystem's lockModes:
    //                   NFS takes them on the server through NLM); else the kernel keeps them local
    // Not asked: DONT_MASK (the kernel applies the
    // umask), SPLICE_* (no splice from JS), ABORT_ERROR (ENODEV is the one end-of-connection),
    // flags2 (SECURITY_CTX would add extensions to requests).
    const want = (abi.FUSE_ASYNC_READ | abi.FUSE_BIG_WRITES | abi.FUSE_MAX_PAGES | abi.FUSE_ASYNC_DIO | abi.FUSE_DO_READDIRPLUS |
      abi.FUSE_ATOMIC_O_TRUNC | abi.FUSE_HANDLE_KILLPRIV_V2 | abi.FUSE_EXPORT_SUPPORT | abi.FUSE_AUTO_INVAL_DATA |
      abi.FUSE_PARALLEL_DIROPS | abi.FUSE_INIT_EXT | (o.readdirplusAuto ? abi.FUSE_READDIRPLUS_AUTO : 0) |
      (o.writebackCache ? abi.FUSE_WRITEBACK_CACHE : 0) | (locks.posix ? abi.FUSE_POSIX_LOCKS : 0) |
      (locks.flock ? abi.FUSE_FLOCK_LOCKS : 0)) >>> 0
    const granted = (want & kin.flags) >>> 0
    this.#locks = (granted & (abi.FUSE_POSIX_LOCKS | abi.FUSE_FLOCK_LOCKS)) !== 0
    const maxWrite = (granted & abi.FUSE_BIG_WRITES) !== 0 ? o.maxWrite : 4096
    const reply: InitOut = {
      major: abi.FUSE_KERNEL_VERSION,
      minor: abi.FUSE_KERNEL_MINOR_VERSION,
      maxReadahead: Math.min(kin.maxReadahead, o.maxReadahead),
      flags: granted,
      maxBackground: Math.min(0xffff, o.maxBackground),
      // The kernel marks the bdi congested (readahead backs off) at 3/4 of max_background.
      congestionThreshold: Math.min(0xffff, Math.floor((o.maxBackground * 3) / 4)),
      maxWrite,
      timeGran: 1,
      // Pages per request: max_write / 4 KiB (the kernel caps it at fs.fuse.max_pages_limit, 256).
      maxPages: Math.min(0xffff, Math.ceil(Math.max(o.maxWrite, o.maxRead) / 4096)),
      flags2: 0,
    }
    writeInitOut(this.#odv, OUT_HEADER_SIZE, reply)
    if (!this.#send(lo, hi, OUT_HEADER_SIZE + INIT_OUT_SIZE)) return
    this.#init = {
      kernelMajor: kin.major,
      kernelMinor: kin.minor,
      kernelMaxReadahead: kin.maxReadahead,
      offered: abi.flagNames(kin.flags, abi.INIT_FLAG_NAMES),
      offered2: abi.flagNames(kin.flags2, abi.INIT_FLAG2_NAMES),
      requested: abi.flagNames(want, abi.INIT_FLAG_NAMES),
      granted: abi.flagNames(granted, abi.INIT_FLAG_NAMES),
      reply,
    }
    this.#negotiated = {
      writebackCache: (granted & abi.FUSE_WRITEBACK_CACHE) !== 0,
      maxWrite,
      maxRead: Math.min(o.maxRead, reply.maxPages * 4096),
    }
    const notifier: KernelNotifier = new DeviceNotifier((m) => { if (!this.#closed) this.#channel.notify(m) })
    try {
      this.#fs.init?.(this.#negotiated, notifier)
    } catch (err) {
      this.#o.log(`filesystem init failed: ${(err as Error).stack ?? String(err)}`)
    }
    this.#resolveReady(this.#init)
  }

  // ---- settling a request -----------------------------------------------------------------

  /** Runs OK with P's value (its own errors become error replies); P's rejection becomes an error reply. */
  #settle<T>(op: number, lo: number, hi: number, p: Promise<T>, ok: (v: T) => void): void {
    p.then(
      (v) => {
        try {
          ok(v)
        } catch (err) {
          this.#fail(op, lo, hi, err)
        }
      },
      (err: unknown) => this.#fail(op, lo, hi, err),
    )
  }

  #entry(op: number, lo: number, hi: number, p: Promise<NodeEntry>): void {
    this.#settle(op, lo, hi, p, (e) => this.#replyEntry(lo, hi, e))
  }

  #attr(op: number, lo: number, hi: number, p: Promise<NodeAttr>): void {
    this.#settle(op, lo, hi, p, (a) => {
      writeAttrOut(this.#odv, OUT_HEADER_SIZE, a)
      this.#send(lo, hi, OUT_HEADER_SIZE + ATTR_OUT_SIZE)
    })
  }

  #empty(op: number, lo: number, hi: number, p: Promise<void>): void {
    this.#settle(op, lo, hi, p, () => this.#replyEmpty(lo, hi))
  }

  #open(op: number, lo: number, hi: number, p: Promise<NodeOpen>, dir: boolean): void {
    this.#settle(op, lo, hi, p, (o) => {
      writeOpenOut(this.#odv, OUT_HEADER_SIZE, o)
      if (!this.#send(lo, hi, OUT_HEADER_SIZE + OPEN_OUT_SIZE)) this.#drop(dir ? 'releasedir' : 'release', o.fh)
    })
  }

  #read(op: number, lo: number, hi: number, fh: number, offset: number, size: number): void {
    if (size > this.largestRead) this.largestRead = size
    const pool = OUT_HEADER_SIZE + size <= this.#small.capacity ? this.#small : this.#large
    const out = pool.take(OUT_HEADER_SIZE + size)
    // The filesystem fills the payload in place; header and data then go out in one write.
    this.#fs.read(fh, out.subarray(OUT_HEADER_SIZE, OUT_HEADER_SIZE + size), size, offset).then(
      (count) => {
        if (!Number.isInteger(count) || count < 0 || count > size) {
          this.#fail(op, lo, hi, new Error(`read of ${size} bytes resolved with ${count}`))
          return
        }
        out.writeUInt32LE(OUT_HEADER_SIZE + count, 0)
        out.writeInt32LE(0, 4)
        out.writeUInt32LE(lo, 8)
        out.writeUInt32LE(hi, 12)
        // Written here, in order with every other reply: READ replies written from the thread
        // pool (measured faster for sequential reads) arrived after later WRITE and SETATTR
        // replies, and the fsx model check then saw a file's size go back to an older one.
        if (!this.#closed) this.#channel.reply(out, OUT_HEADER_SIZE + count)
        pool.give(out)
      },
      // Not given back: a read that failed (a timeout) might still fill it later.
      (err: unknown) => this.#fail(op, lo, hi, err),
    )
  }

  #readdir(op: number, lo: number, hi: number, c: Caller, nodeid: number, fh: number, offset: bigint, size: number): void {
    const pool = OUT_HEADER_SIZE + size <= this.#small.capacity ? this.#small : this.#large
    const out = pool.take(OUT_HEADER_SIZE + size)
    const dv = new DataView(out.buffer, out.byteOffset, out.length)
    const sink = new DirentWriter(out, dv, OUT_HEADER_SIZE, OUT_HEADER_SIZE + size, op === abi.FUSE_READDIRPLUS, BigInt(nodeid))
    const forgetAll = (ids: number[]): void => { for (const id of ids) this.#forget(id, 1) }
    let p: Promise<void>
    try {
      p = this.#fs.readdirplus(c, nodeid, fh, offset, sink)
    } catch (err) {
      p = Promise.reject(err)
    }
    p.then(
      () => {
        sink.sealed = true
        writeOutHeader(dv, sink.pos, 0, lo, hi)
        const taken = !this.#closed && this.#channel.reply(out, sink.pos)
        if (!taken) forgetAll(sink.counted)
        forgetAll(sink.uncounted)
        pool.give(out)
      },
      (err: unknown) => {
        sink.sealed = true
        forgetAll(sink.counted)
        forgetAll(sink.uncounted)
        pool.give(out)
        this.#fail(op, lo, hi, err)
      },
    )
  }

  #forget(nodeid: number, nlookup: number): void {
    try {
      this.#fs.forget(nodeid, nlookup)
    } catch (err) {
      toErrno(err, this.#o.log)
    }
  }

  /** Releases a handle the kernel never got (its OPEN/CREATE reply was not taken). */
  #drop(what: 'release' | 'releasedir', fh: number): void {
    let p: Promise<void>
    try {
      p = what === 'release' ? this.#fs.release(fh) : this.#fs.releasedir(fh)
    } catch (err) {
      p = Promise.reject(err)
    }
    p.catch((err: unknown) => { toErrno(err, this.#o.log) })
  }

  // ---- replies ----------------------------------------------------------------------------

  /** Writes the shared buffer's first LEN bytes as the reply to unique (LO, HI). */
  #send(lo: number, hi: number, len: number): boolean {
    if (this.#closed) return false
    writeOutHeader(this.#odv, len, 0, lo, hi)
    return this.#channel.reply(this.#out, len)
  }

  #replyEmpty(lo: number, hi: number): void {
    this.#send(lo, hi, OUT_HEADER_SIZE)
  }

  /** The 16-byte header alone, error = -ERRNO (a payload with an error makes the kernel fail the request with EIO). */
  #replyError(lo: number, hi: number, errno: number): void {
    if (this.#closed) return
    writeOutHeader(this.#odv, OUT_HEADER_SIZE, -errno, lo, hi)
    this.#channel.reply(this.#out, OUT_HEADER_SIZE)
  }

  #fail(op: number, lo: number, hi: number, err: unknown): void {
    const errno = toErrno(err, this.#o.log)
    // FORGET-like requests have nobody waiting: nothing to answer.
    if (op === abi.FUSE_FORGET || op === abi.FUSE_BATCH_FORGET || op === abi.FUSE_INTERRUPT || op === abi.FUSE_NOTIFY_REPLY) return
    this.#o.onOpError?.(abi.OP_NAMES[op] ?? `op${op}`, errno)
    this.#replyError(lo, hi, errno)
  }

  #replyEntry(lo: number, hi: number, e: NodeEntry): void {
    writeEntryOut(this.#odv, OUT_HEADER_SIZE, e)
    if (!this.#send(lo, hi, OUT_HEADER_SIZE + ENTRY_OUT_SIZE)) this.#forget(e.nodeid, 1)
  }

  #replyCreate(lo: number, hi: number, e: NodeEntry, o: NodeOpen): void {
    writeEntryOut(this.#odv, OUT_HEADER_SIZE, e)
    writeOpenOut(this.#odv, OUT_HEADER_SIZE + ENTRY_OUT_SIZE, o)
    if (!this.#send(lo, hi, OUT_HEADER_SIZE + ENTRY_OUT_SIZE + OPEN_OUT_SIZE)) {
      this.#forget(e.nodeid, 1)
      this.#drop('release', o.fh)
    }
  }

  #replyWrite(lo: number, hi: number, count: number, size: number): void {
    if (!Number.isInteger(count) || count < 0 || count > size) throw new Error(`write of ${size} bytes resolved with ${count}`)
    this.#odv.setUint32(OUT_HEADER_SIZE, count, true)
    this.#odv.setUint32(OUT_HEADER_SIZE + 4, 0, true)
    this.#send(lo, hi, OUT_HEADER_SIZE + WRITE_OUT_SIZE)
  }

  /** READLINK: the target's bytes, no NUL. */
  #replyBytes(lo: number, hi: number, text: string): void {
    const nb = Buffer.byteLength(text)
    if (OUT_HEADER_SIZE + nb <= SHARED_OUT) {
      this.#out.write(text, OUT_HEADER_SIZE, nb, 'utf8')
      this.#send(lo, hi, OUT_HEADER_SIZE + nb)
      return
    }
    const out = Buffer.alloc(OUT_HEADER_SIZE + nb)
    out.write(text, OUT_HEADER_SIZE, nb, 'utf8')
    writeOutHeader(new DataView(out.buffer, out.byteOffset, out.length), out.length, 0, lo, hi)
    if (!this.#closed) this.#channel.reply(out, out.length)
  }

  #replyStatfs(lo: number, hi: number, s: FuseStatfs): void {
    writeStatfsOut(this.#odv, OUT_HEADER_SIZE, s)
    this.#send(lo, hi, OUT_HEADER_SIZE + STATFS_OUT_SIZE)
  }
}

/** A request's unique (u64) as a map key. */
function uniqueKey(lo: number, hi: number): string {
  return `${hi}:${lo}`
}

/** The request's caller, from its header. */
function caller(dv: DataView): Caller {
  return { uid: dv.getUint32(24, true), gid: dv.getUint32(28, true), pid: dv.getUint32(32, true) }
}

/** EINVAL unless the request carries SIZE argument bytes. */
function need(n: number, size: number): void {
  if (n < A + size) throw new KernelFuseError('ERR_FUSE_REQUEST', EINVAL, `request of ${n} bytes, ${A + size} needed`)
}

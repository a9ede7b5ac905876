// The only module that imports fuse-native. It turns libfuse callbacks into calls on
// FuseOperations and back: reads the caller (uid, gid, pid) of each request, negates errno for
// the binding, copies write data out of the FUSE buffer, and owns mount and unmount.
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import type { Caller } from '../identity/index.js'
import { toErrno } from './errno.js'
import type { FuseOperations, TimeArg } from './operations.js'
import { toStatArray, type FuseStat } from './stat.js'
import { clampNfsTime3 } from './time.js'
import { FUSE_READAHEAD_KIB, setReadAheadWindow } from './readahead-window.js'

const require = createRequire(import.meta.url)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Fuse = require('fuse-native') as FuseConstructor
// The same addon instance fuse-native loaded (node-gyp-build resolves build/Release first);
// scripts/build-fuse-native.mjs adds fuse_native_caller to it.
const binding = require('node-gyp-build')(dirname(require.resolve('fuse-native'))) as {
  fuse_native_caller?: (out: Uint32Array) => void
  mapnfs_patch_version?: number
}

/**
 * The binding formats below (caller context, ns timestamps, 64-bit st_ino, signed 64-bit utimens
 * seconds, UTIME_NOW/OMIT) need this version of patches/fuse-native+2.2.6.patch.
 */
const PATCH_VERSION = 4
const UTIME_NOW = 0x3fffffff
const UTIME_OMIT = 0x3ffffffe

type Cb = (code: number, ...rest: unknown[]) => void
interface FuseInstance {
  mount(cb: (err: Error | null) => void): void
  unmount(cb: (err: Error | null) => void): void
}
type FuseConstructor = new (mnt: string, ops: Record<string, unknown>, opts: Record<string, unknown>) => FuseInstance

export interface FuseMountOptions {
  /** Shown as the source in /proc/mounts. */
  fsname: string
  readonly: boolean
  /** Kernel attribute/entry cache lifetime in seconds; 0 = ask us every time. */
  cacheSeconds: number
  /** Keep the kernel page cache across opens while mtime/size are unchanged. */
  autoCache: boolean
  /** The kernel checks every access against the owner and mode it shows (libfuse default_permissions). */
  defaultPermissions: boolean
  /** fuse-native's own per-op deadline, above the RPC layer's, so it never cuts a call short; false: none (hard mounts). */
  opTimeoutMs: number | false
  log: (line: string) => void
  /** Told of every operation answered with an error (op as libfuse names it, positive errno). */
  onOpError?: (op: string, errno: number) => void
}

/** True when fuse-native was rebuilt by scripts/build-fuse-native.mjs with the patch this module speaks. */
export function patchedBindingAvailable(): boolean {
  return typeof binding.fuse_native_caller === 'function' && binding.mapnfs_patch_version === PATCH_VERSION
}

/** libfuse option string: what fuse-native does not expose rides on the fsname (see platform facts). */
function libfuseOptions(o: FuseMountOptions): string {
  const fsname = o.fsname.replace(/[,\\\s]/g, '_')
  const t = o.cacheSeconds
  const extra = [
    'big_writes',
    'use_ino',
    `entry_timeout=${t}`,
    `attr_timeout=${t}`,
    `ac_attr_timeout=${t}`,
    `negative_timeout=0`,
    ...(o.readonly ? ['ro'] : []),
  ]
  return [fsname, ...extra].join(',')
}

/**
 * Overrides of fuse-native's own handlers where its JS would lose information:
 * - fgetattr: 2.2.6 routes it to the path-based getattr and drops the file handle, so fstat()
 *   (and the kernel's attribute refresh on read) of an open file would look the path up again;
 * - getattr/fgetattr/utimens: its JS converts times to milliseconds and builds an 18-word stat
 *   array with a 32-bit st_ino; the patched binding takes the 19-word array of stat.ts toStatArray
 *   (st_ino 64-bit), and passes utimens times as (nsec, sec) with sec signed 64-bit and
 *   UTIME_NOW/UTIME_OMIT in nsec.
 */
type StatCb = (code: number, st?: FuseStat) => void
function withExactHandlers(Base: FuseConstructor): FuseConstructor {
  return class extends (Base as unknown as new (...a: unknown[]) => FuseInstance & { ops: Record<string, unknown> }) {
    _op_getattr(signal: (code: number, stat: Uint32Array) => void, path: string): void {
      const getattr = this.ops.getattr as (p: string, cb: StatCb) => void
      getattr(path, (code, st) => signal(code, toStatArray(code === 0 ? st : undefined)))
    }

    _op_fgetattr(signal: (code: number, stat: Uint32Array) => void, path: string, fd: number): void {
      const fgetattr = this.ops.fgetattr as (p: string, fd: number, cb: StatCb) => void
      fgetattr(path, fd, (code, st) => signal(code, toStatArray(code === 0 ? st : undefined)))
    }

    _op_utimens(signal: (code: number) => void, path: string, aNsec: number, aSec: number, mNsec: number, mSec: number): void {
      const utimens = this.ops.utimens as (p: string, a: TimeArg, m: TimeArg, cb: (code: number) => void) => void
      utimens(path, timeArg(aSec, aNsec), timeArg(mSec, mNsec), (code) => signal(code))
    }
  } as unknown as FuseConstructor
}

/** A utimens time from the binding: seconds may be negative or past 2^32, clamped to NFSv3's range (time.ts). */
function timeArg(seconds: number, nseconds: number): TimeArg {
  if (nseconds === UTIME_NOW) return 'now'
  if (nseconds === UTIME_OMIT) return 'omit'
  return clampNfsTime3(seconds, nseconds)
}

const MapnfsFuse = withExactHandlers(Fuse)

export class FuseMount {
  readonly #fuse: FuseInstance
  readonly #mountpoint: string
  readonly #log: (line: string) => void

  constructor(mountpoint: string, fs: FuseOperations, opts: FuseMountOptions) {
    this.#mountpoint = mountpoint
    this.#log = opts.log
    const ops = buildOps(fs, opts.log)
    this.#fuse = new MapnfsFuse(mountpoint, opts.onOpError ? reportingErrors(ops, opts.onOpError) : ops, {
      allowOther: true,
      autoCache: opts.autoCache,
      defaultPermissions: opts.defaultPermissions,
      fsname: libfuseOptions(opts),
      subtype: 'mapnfs',
      timeout: opts.opTimeoutMs,
    })
  }

  get mountpoint(): string {
    return this.#mountpoint
  }

  async mount(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.#fuse.mount((err) => (err ? reject(err) : resolve())))
    const why = await setReadAheadWindow(this.#mountpoint, FUSE_READAHEAD_KIB)
    if (why !== null) this.#log(`kernel readahead left at its default (${why})`)
  }

  unmount(): Promise<void> {
    return new Promise((resolve, reject) => this.#fuse.unmount((err) => (err ? reject(err) : resolve())))
  }
}

/** OPS with each callback's negative code (-errno) also told to onOpError, under the op's name. */
function reportingErrors(ops: Record<string, unknown>, onOpError: (op: string, errno: number) => void): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [op, fn] of Object.entries(ops)) {
    const handler = fn as (...args: unknown[]) => void
    out[op] = (...args: unknown[]): void => {
      const cb = args[args.length - 1] as (code: number, ...rest: unknown[]) => void
      args[args.length - 1] = (code: number, ...rest: unknown[]): void => {
        if (code < 0) onOpError(op, -code)
        cb(code, ...rest)
      }
      handler(...args)
    }
  }
  return out
}

function buildOps(fs: FuseOperations, log: (line: string) => void): Record<string, unknown> {
  const ctx = new Uint32Array(3)
  const caller = (): Caller => {
    binding.fuse_native_caller!(ctx)
    return { uid: ctx[0]!, gid: ctx[1]!, pid: ctx[2]! }
  }
  const fail = (cb: Cb, err: unknown): void => cb(-toErrno(err, log))
  // Settles a promise into a fuse-native callback: (0, value) or (-errno).
  const done = <T>(cb: Cb, p: Promise<T>, ok: (v: T) => unknown[] = () => []): void => {
    p.then((v) => cb(0, ...ok(v)), (err) => fail(cb, err))
  }
  const safe = (cb: Cb, f: () => void): void => {
    try {
      f()
    } catch (err) {
      fail(cb, err)
    }
  }

  return {
    getattr: (path: string, cb: Cb) => safe(cb, () => done(cb, fs.getattr(caller(), path), (st) => [st])),
    fgetattr: (path: string, fd: number, cb: Cb) => safe(cb, () => {
      // libfuse passes no file info for some fstat()s; fd 0 is never one of ours.
      done(cb, fd === 0 ? fs.getattr(caller(), path) : fs.fgetattr(caller(), fd), (st) => [st])
    }),
    access: (path: string, mode: number, cb: Cb) => safe(cb, () => done(cb, fs.access(caller(), path, mode))),
    statfs: (_path: string, cb: Cb) => safe(cb, () => done(cb, fs.statfs(caller()), (s) => [s])),
    // fuse-native passes (path, fh, flags) where its JS names them (path, flags): neither is needed.
    opendir: (path: string, _fh: number, cb: Cb) => safe(cb, () => done(cb, fs.opendir(caller(), path), () => [0])),
    releasedir: (_path: string, _fd: number, cb: Cb) => cb(0),
    readdir: (path: string, cb: Cb) => safe(cb, () => done(cb, fs.readdir(caller(), path), (names) => [names])),
    open: (path: string, flags: number, cb: Cb) => safe(cb, () => done(cb, fs.open(caller(), path, flags), (fd) => [fd])),
    create: (path: string, mode: number, cb: Cb) => safe(cb, () => done(cb, fs.create(caller(), path, mode), (fd) => [fd])),
    read: (_path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) => {
      try {
        fs.read(fd, buf, len, pos).then((n) => cb(n), (err) => cb(-toErrno(err, log)))
      } catch (err) {
        cb(-toErrno(err, log))
      }
    },
    write: (_path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) => {
      try {
        // The FUSE buffer is only ours until cb(): write() copies what it keeps (FuseOperations).
        fs.write(fd, buf.subarray(0, len), pos).then((n) => cb(n), (err) => cb(-toErrno(err, log)))
      } catch (err) {
        cb(-toErrno(err, log))
      }
    },
    flush: (_path: string, fd: number, cb: Cb) => safe(cb, () => done(cb, fs.flush(fd))),
    fsync: (_path: string, _datasync: number, fd: number, cb: Cb) => safe(cb, () => done(cb, fs.fsync(fd))),
    fsyncdir: (_path: string, _datasync: number, _fd: number, cb: Cb) => cb(0),
    release: (_path: string, fd: number, cb: Cb) => safe(cb, () => done(cb, fs.release(fd))),
    truncate: (path: string, size: number, cb: Cb) => safe(cb, () => done(cb, fs.truncate(caller(), path, size))),
    ftruncate: (_path: string, fd: number, size: number, cb: Cb) => safe(cb, () => done(cb, fs.ftruncate(caller(), fd, size))),
    chmod: (path: string, mode: number, cb: Cb) => safe(cb, () => done(cb, fs.chmod(caller(), path, mode))),
    chown: (path: string, uid: number, gid: number, cb: Cb) => safe(cb, () => done(cb, fs.chown(caller(), path, uid, gid))),
    utimens: (path: string, atime: TimeArg, mtime: TimeArg, cb: Cb) => safe(cb, () => done(cb, fs.utimens(caller(), path, atime, mtime))),
    mkdir: (path: string, mode: number, cb: Cb) => safe(cb, () => done(cb, fs.mkdir(caller(), path, mode))),
    rmdir: (path: string, cb: Cb) => safe(cb, () => done(cb, fs.rmdir(caller(), path))),
    unlink: (path: string, cb: Cb) => safe(cb, () => done(cb, fs.unlink(caller(), path))),
    rename: (from: string, to: string, cb: Cb) => safe(cb, () => done(cb, fs.rename(caller(), from, to))),
    symlink: (target: string, path: string, cb: Cb) => safe(cb, () => done(cb, fs.symlink(caller(), target, path))),
    readlink: (path: string, cb: Cb) => safe(cb, () => done(cb, fs.readlink(caller(), path), (t) => [t])),
    link: (from: string, to: string, cb: Cb) => safe(cb, () => done(cb, fs.link(caller(), from, to))),
    mknod: (path: string, mode: number, dev: number, cb: Cb) => safe(cb, () => done(cb, fs.mknod(caller(), path, mode, dev))),
  }
}

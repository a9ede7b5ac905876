// A FUSE mount served over /dev/fuse by this process, without libfuse or native code:
//
//   1. open /dev/fuse (device.ts);
//   2. `mount -i -t fuse.<subtype> -o fd=3,rootmode=40000,user_id=U,group_id=G,... FSNAME MP`
//      with that fd as the child's fd 3. The kernel resolves `fd=3` in the process calling
//      mount(2), i.e. in the child; spawn's dup2 into slot 3 clears CLOEXEC. `-i` keeps mount(8)
//      from running /sbin/mount.fuse, which would try to exec the subtype as a program. Always an
//      async spawn: this process must stay free to serve the mount;
//   3. once mount(8) exited 0 (reading /dev/fuse before that fails with EPERM), serve requests
//      (session.ts); mount() resolves once INIT is answered.
//
// Ending: `umount MP` (by us or anyone) or an abort through /sys/fs/fuse/connections/N/abort
// make the device read fail with ENODEV: `closed` resolves. An abort leaves a dead mount behind
// (every access: ENOTCONN); we clear it (umount -l) when it is still ours, as libfuse does after
// its loop ends. If this process dies (SIGKILL), the kernel aborts the connection when the fd
// closes and the dead mount stays until someone runs `fusermount -u MP` or `umount MP`
// (src/mount handles a mount point left in ENOTCONN).
import { spawn } from 'node:child_process'
import { readFile, realpath } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { NodeOperations } from '../node-operations.js'
import { FUSE_READAHEAD_KIB, setReadAheadWindow } from '../readahead-window.js'
import { FuseDevice, pipeWrapAvailable } from './device.js'
import { KernelFuseError } from './errors.js'
import { Session, type InitInfo } from './session.js'

export interface KernelMountOptions {
  /** The source shown in /proc/mounts (commas, backslashes and whitespace become '_'). */
  fsname: string
  /** The mount's type is fuse.<subtype>. */
  subtype?: string
  /** Mount read-only (ro). */
  readonly?: boolean
  /** Let the kernel check permissions from the mode bits it is shown (default_permissions). */
  defaultPermissions?: boolean
  /** Let users other than the mounting one (root) in (allow_other). */
  allowOther?: boolean
  /** Largest READ request, in bytes (max_read). WRITEs go up to 1 MiB whatever this is. */
  maxRead?: number
  /** Ask for the kernel's writeback cache (FUSE_WRITEBACK_CACHE). */
  writebackCache?: boolean
  /** Background requests the kernel keeps in flight (max_background; congestion at 3/4). */
  maxBackground?: number
  /** The bdi read_ahead_kb set after mounting; null leaves the kernel's default. */
  readAheadKib?: number | null
  /** One line per unexpected error or protocol event. */
  log?: (line: string) => void
  /** Every error reply to a filesystem request, by op name ('lookup', 'read', ...). */
  onOpError?: (op: string, errno: number) => void
}

const DEFAULTS = {
  subtype: 'mapnfs',
  readonly: false,
  defaultPermissions: true,
  allowOther: true,
  maxRead: 1 << 20,
  writebackCache: false,
  maxBackground: 64,
  readAheadKib: FUSE_READAHEAD_KIB as number | null,
  log: (line: string): void => { process.stderr.write(`mapnfs: ${line}\n`) },
}

/** rootmode=40000: the root is a directory (octal S_IFDIR), as the kernel needs to know before INIT. */
const ROOTMODE = '40000'
/** After a plain umount the kernel ends the connection at once; this long without ENODEV, we end it ourselves. */
const CLOSE_GRACE_MS = 5000

export class KernelMount {
  /** Resolves once the kernel connection has ended (unmounted by anyone, aborted, or closed by unmount()) and no dead mount of ours is left. */
  readonly closed: Promise<void>
  readonly #mountpoint: string
  /** The mount point with symlinks resolved: how the mount table names it. */
  #target: string
  readonly #fs: NodeOperations
  readonly #o: Required<KernelMountOptions>
  #device: FuseDevice | undefined
  #session: Session | undefined
  /** The mount's st_dev as mountinfo shows it ("0:57"), to tell our mount from a later one at the same path. */
  #dev: string | undefined
  #state: 'new' | 'mounting' | 'mounted' | 'closed' = 'new'
  #closedResolve!: () => void

  constructor(mountpoint: string, fs: NodeOperations, opts: KernelMountOptions) {
    this.#mountpoint = resolve(mountpoint)
    this.#target = this.#mountpoint
    this.#fs = fs
    const o = { ...DEFAULTS, onOpError: undefined, ...opts }
    this.#o = { ...o, onOpError: o.onOpError ?? (() => undefined) }
    this.closed = new Promise((r) => { this.#closedResolve = r })
  }

  get mountpoint(): string {
    return this.#mountpoint
  }

  /** What INIT agreed (undefined before mount() resolved). */
  get init(): InitInfo | undefined {
    return this.#session?.initInfo
  }

  /** Largest READ / WRITE request seen so far, and the request count. */
  get stats(): { largestRead: number; largestWrite: number; requests: number } {
    const s = this.#session
    return { largestRead: s?.largestRead ?? 0, largestWrite: s?.largestWrite ?? 0, requests: s?.requests ?? 0 }
  }

  /**
   * Mounts and serves. Resolves once the kernel's INIT is answered and the readahead window is
   * set (a window that cannot be set is logged, not fatal). Rejects with a KernelFuseError:
   * ERR_FUSE_DEVICE (no /dev/fuse, or this Node cannot watch it), ERR_FUSE_MOUNT (mount(8)
   * failed: its first stderr line), ERR_FUSE_PROTOCOL (the connection ended before INIT); then
   * nothing is left mounted and the fd is closed.
   */
  async mount(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`KernelMount on ${this.#mountpoint}: mount() called twice`)
    this.#state = 'mounting'
    const o = this.#o
    this.#target = await realpath(this.#mountpoint).catch(() => this.#mountpoint)
    if (!pipeWrapAvailable()) {
      this.#state = 'closed'
      this.#closedResolve()
      throw new KernelFuseError('ERR_FUSE_DEVICE', 38, `this Node (${process.version}) has no process.binding('pipe_wrap'): the kernel FUSE front end cannot watch /dev/fuse`)
    }
    let device: FuseDevice
    try {
      device = new FuseDevice(o.log)
    } catch (err) {
      this.#state = 'closed'
      this.#closedResolve()
      throw err
    }
    this.#device = device
    const session = new Session(device, this.#fs, {
      maxRead: o.maxRead,
      writebackCache: o.writebackCache,
      maxBackground: o.maxBackground,
      log: o.log,
      onOpError: o.onOpError,
    })
    this.#session = session
    void device.closed.then((why) => this.#ended(why))

    const r = await run('/usr/bin/mount', ['-i', '-t', `fuse.${o.subtype}`, '-o', this.#mountOptions(), sanitizeFsname(o.fsname), this.#target], device.fd)
    if (r.code !== 0) {
      device.close()
      await this.closed
      const line = r.stderr.split('\n').find((l) => l.trim() !== '') ?? `exit code ${r.code}`
      throw new KernelFuseError('ERR_FUSE_MOUNT', 5, `mount ${this.#mountpoint}: ${line.trim()}`)
    }
    this.#dev = await mountDev(this.#target, o.subtype)
    try {
      device.start(session.readBufferSize, (buf, n) => session.handle(buf, n))
      await session.ready
    } catch (err) {
      device.close()
      await this.closed
      throw err
    }
    this.#state = 'mounted'
    if (o.readAheadKib !== null) {
      // Its stat() of the mount point is a request this process answers: asynchronous on purpose.
      const why = await setReadAheadWindow(this.#mountpoint, o.readAheadKib)
      if (why !== null) o.log(`kernel readahead left at its default (${why})`)
    }
  }

  /**
   * Unmounts and resolves once the connection has ended. A busy mount still goes: umount fails
   * with EBUSY, then it is detached (umount -l) and our end of the connection closed, so processes
   * still inside get ENOTCONN (as with libfuse 2, which unmounts lazily). Resolves at once when
   * already closed; rejects with ERR_FUSE_UNMOUNT when the mount is still there afterwards.
   */
  async unmount(): Promise<void> {
    const device = this.#device
    if (device === undefined || !device.isOpen) {
      await this.closed
      return
    }
    const plain = await run('/usr/bin/umount', [this.#target])
    let lazy: RunResult | undefined
    if (plain.code === 0) {
      const timer = setTimeout(() => device.close(), CLOSE_GRACE_MS)
      await device.closed
      clearTimeout(timer)
    } else {
      lazy = await run('/usr/bin/umount', ['-l', this.#target])
      device.close()
    }
    await this.closed
    if (await this.#stillMounted()) {
      const why = (lazy ?? plain).stderr.split('\n').find((l) => l.trim() !== '') ?? 'still mounted'
      throw new KernelFuseError('ERR_FUSE_UNMOUNT', 16, `umount ${this.#mountpoint}: ${why.trim()}`)
    }
  }

  /** The -o list; the child sees the device as its fd 3, whatever our number of it is. */
  #mountOptions(): string {
    const o = this.#o
    return [
      'fd=3',
      `rootmode=${ROOTMODE}`,
      `user_id=${process.getuid?.() ?? 0}`,
      `group_id=${process.getgid?.() ?? 0}`,
      ...(o.allowOther ? ['allow_other'] : []),
      ...(o.defaultPermissions ? ['default_permissions'] : []),
      `max_read=${o.maxRead}`,
      ...(o.readonly ? ['ro'] : []),
    ].join(',')
  }

  /** The device is closed: tell the session, clear a dead mount of ours, resolve `closed`. */
  async #ended(why: string): Promise<void> {
    this.#session?.close(why)
    const was = this.#state
    this.#state = 'closed'
    if (was === 'mounted' || was === 'mounting') {
      if (await this.#stillMounted()) {
        const r = await run('/usr/bin/umount', ['-l', this.#target])
        if (r.code !== 0) this.#o.log(`could not clear the dead mount on ${this.#mountpoint}: ${r.stderr.trim()}`)
      }
    }
    this.#closedResolve()
  }

  /** Whether our mount (same st_dev, or any fuse.<subtype> mount there when we never learned it) is still in the mount table. */
  async #stillMounted(): Promise<boolean> {
    const dev = await mountDev(this.#target, this.#o.subtype)
    return dev !== undefined && (this.#dev === undefined || dev === this.#dev)
  }
}

/** mount(8) would take commas as option separators and whitespace breaks /proc/mounts parsers. */
export function sanitizeFsname(fsname: string): string {
  return fsname.replace(/[,\\\s]/g, '_') || 'mapnfs'
}

interface RunResult {
  code: number
  stderr: string
}

/** Runs FILE ARGS (with FD as the child's fd 3 when given); resolves with its exit code and stderr. */
function run(file: string, args: string[], fd?: number): Promise<RunResult> {
  return new Promise((resolveRun) => {
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'ignore', 'pipe']
    if (fd !== undefined) stdio.push(fd)
    const child = spawn(file, args, { stdio, env: { ...process.env, LANG: 'C', LC_ALL: 'C' } })
    let stderr = ''
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.once('error', (e) => resolveRun({ code: -1, stderr: `${file}: ${e.message}` }))
    child.once('close', (code, signal) => resolveRun({ code: code ?? -1, stderr: stderr || (signal ? `${file} killed by ${signal}` : '') }))
  })
}

/** The st_dev ("major:minor") of the last fuse.<subtype> mount on MOUNTPOINT in /proc/self/mountinfo. */
async function mountDev(mountpoint: string, subtype: string): Promise<string | undefined> {
  let text: string
  try {
    text = await readFile('/proc/self/mountinfo', 'utf8')
  } catch {
    return undefined
  }
  let dev: string | undefined
  for (const line of text.split('\n')) {
    // id parent major:minor root mountpoint options... - fstype source superoptions
    const f = line.split(' ')
    const sep = f.indexOf('-')
    if (sep < 0 || f[sep + 1] !== `fuse.${subtype}`) continue
    if (unescapeMountinfo(f[4] ?? '') === mountpoint) dev = f[2]
  }
  return dev
}

/** Mount table fields escape space, tab, newline and backslash as \ooo. */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
}

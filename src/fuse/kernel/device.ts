// The /dev/fuse transport: one request per read(2), one reply per write(2).
//
// Reading: the fd is handed to libuv as a "pipe" stream (the internal pipe_wrap binding) and read
// by the main thread's epoll, into ONE preallocated buffer (net.Socket `onread`): each request is
// decoded inside the read callback, before the next read reuses the buffer. Measured (README,
// "The FUSE front end"): 2-5x the fuse-native ceiling, because there is no thread hop per
// request. The alternatives lose: worker threads in readSync pay a wakeup per request, and
// fs.read on libuv's threadpool parks pool threads in read(2), starving every fs.promises call of
// the daemon (a deadlock when one is needed to answer a request).
//
// RISK: process.binding('pipe_wrap') is an internal, deprecated API (DEP0111; silent in Node 20).
// A later Node may remove it; then start() throws ERR_FUSE_DEVICE with a clear message and the
// mount is never made (KernelMount checks pipeWrapAvailable() before mounting). uv_pipe_open also
// sets O_NONBLOCK on the shared open file description: never read this fd with blocking reads
// elsewhere.
//
// Writing: replies go out with one writeSync from the main thread (the kernel takes a reply at
// once; it never blocks). Notifications (FUSE_NOTIFY_INVAL_*) do block inside write(2) until the
// kernel gets the inode / directory locks, which a request waiting for our reply may hold: they go
// through fs.write on libuv's threadpool, one at a time, so the event loop keeps answering.
//
// Errors: ENOENT on a reply write means the request is gone (interrupted, or the connection was
// aborted meanwhile): benign. ENODEV (or ECONNABORTED with FUSE_ABORT_ERROR) on read or write
// means the connection has ended: `closed` resolves and the fd is closed.
import { closeSync, constants, openSync, readSync, write, writeSync } from 'node:fs'
import { Socket } from 'node:net'
import { KernelFuseError } from './errors.js'

const ENODEV = 19
/** Requests read in one wakeup at most, so timers and replies from the server still get their turn. */
const BURST = 32

/** The reason the connection ended: 'ENODEV' (unmounted or aborted), 'closed' (we closed it), or another error code. */
export type CloseReason = string

interface PipeHandle {
  open(fd: number): number | undefined
}
interface PipeWrapBinding {
  Pipe: new (type: number) => PipeHandle
  constants: { SOCKET: number }
}

/** The pipe_wrap binding, or undefined when this Node has none (or forbids process.binding). */
function pipeWrap(): PipeWrapBinding | undefined {
  try {
    const binding = (process as unknown as { binding?: (name: string) => unknown }).binding
    const b = binding?.call(process, 'pipe_wrap') as Partial<PipeWrapBinding> | undefined
    return typeof b?.Pipe === 'function' && typeof b.constants?.SOCKET === 'number' ? (b as PipeWrapBinding) : undefined
  } catch {
    return undefined
  }
}

/** Whether this Node can watch /dev/fuse with its event loop (see the RISK note above). */
export function pipeWrapAvailable(): boolean {
  return pipeWrap() !== undefined
}

export class FuseDevice {
  readonly fd: number
  /** Resolves with the reason once the connection has ended (the fd is closed then, or after a notification still being written); never rejects. */
  readonly closed: Promise<CloseReason>
  #done!: (why: CloseReason) => void
  #open = true
  #socket: Socket | undefined
  readonly #log: (line: string) => void
  readonly #notes: Buffer[] = []
  #noting = false

  /** Opens /dev/fuse (O_RDWR; libuv adds O_CLOEXEC). Throws ERR_FUSE_DEVICE with the errno. */
  constructor(log: (line: string) => void, path = '/dev/fuse') {
    this.#log = log
    try {
      this.fd = openSync(path, constants.O_RDWR)
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      throw new KernelFuseError('ERR_FUSE_DEVICE', -(e.errno ?? -ENODEV), `cannot open ${path}: ${e.message}`)
    }
    this.closed = new Promise((resolve) => { this.#done = resolve })
  }

  get isOpen(): boolean {
    return this.#open
  }

  /**
   * Starts reading requests into one buffer of SIZE bytes (at least max_write + the largest
   * header: the kernel refuses smaller reads with EINVAL). ON_REQUEST runs inside the read
   * callback and must be done with the buffer when it returns. Call only once mount(2) is done:
   * a read before it fails with EPERM.
   */
  start(size: number, onRequest: (buf: Buffer, length: number) => void): void {
    const pw = pipeWrap()
    if (pw === undefined) {
      throw new KernelFuseError('ERR_FUSE_DEVICE', 38, `this Node (${process.version}) has no process.binding('pipe_wrap'): the kernel FUSE front end cannot watch /dev/fuse`)
    }
    if (!this.#open) return
    const handle = new pw.Pipe(pw.constants.SOCKET)
    const err = handle.open(this.fd)
    if (err !== undefined && err !== 0) throw new KernelFuseError('ERR_FUSE_DEVICE', -err, `pipe_wrap open of /dev/fuse failed (${err})`)
    const buf = Buffer.allocUnsafe(size)
    const sock = new Socket({
      handle,
      readable: true,
      writable: false,
      onread: {
        buffer: buf,
        callback: (n: number): boolean => {
          this.#handle(onRequest, buf, n)
          // libuv reads one request per wakeup (a read shorter than the buffer ends its loop), so
          // requests the kernel queued meanwhile would each cost a turn of the event loop, and
          // each turn its own RPC write. Reading on until the device is empty (EAGAIN: the fd is
          // non-blocking) lets a burst of requests leave in one writev per connection.
          for (let i = 1; i < BURST && this.#open; i++) {
            let more: number
            try {
              more = readSync(this.fd, buf, 0, size, null)
            } catch (e) {
              const code = (e as NodeJS.ErrnoException).code
              // EAGAIN: nothing more now; ENOENT/EINTR: a request interrupted before it was read.
              if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR' || code === 'ENOENT') break
              if (code !== 'ENODEV' && code !== 'ECONNABORTED') this.#log(`/dev/fuse read failed: ${code ?? String(e)}`)
              this.#finish(code ?? 'error')
              break
            }
            if (more <= 0) break
            this.#handle(onRequest, buf, more)
          }
          return true
        },
      },
    } as ConstructorParameters<typeof Socket>[0])
    this.#socket = sock
    sock.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? e.message
      if (code !== 'ENODEV' && code !== 'ECONNABORTED') this.#log(`/dev/fuse read failed: ${code}`)
      this.#finish(code)
    })
    sock.on('end', () => this.#finish('EOF'))
    sock.on('close', () => this.#finish('closed'))
    sock.resume()
  }

  #handle(onRequest: (buf: Buffer, length: number) => void, buf: Buffer, n: number): void {
    try {
      onRequest(buf, n)
    } catch (e) {
      this.#log(`request handler threw: ${(e as Error).stack ?? String(e)}`)
    }
  }

  /**
   * Writes one reply (LENGTH bytes of BUF) with one write(2). Returns true when the kernel took
   * it; false when the request is gone (ENOENT) or the connection is (then `closed` resolves).
   */
  reply(buf: Buffer, length: number): boolean {
    if (!this.#open) return false
    try {
      writeSync(this.fd, buf, 0, length)
      return true
    } catch (e) {
      this.#writeFailed(e as NodeJS.ErrnoException, 'reply')
      return false
    }
  }

  /**
   * Queues an unsolicited message (a FUSE_NOTIFY_*); written off the event loop, in order, one
   * at a time. BUF is kept until written. Dropped once the connection has ended.
   */
  notify(buf: Buffer): void {
    if (!this.#open) return
    this.#notes.push(buf)
    if (!this.#noting) this.#nextNote()
  }

  #nextNote(): void {
    const buf = this.#notes.shift()
    if (buf === undefined || !this.#open) {
      this.#noting = false
      this.#notes.length = 0
      if (!this.#open) this.#release()
      return
    }
    this.#noting = true
    write(this.fd, buf, 0, buf.length, null, (err) => {
      // ENOENT: the kernel has nothing cached under that inode or name: nothing to drop.
      if (err && err.code !== 'ENOENT') this.#writeFailed(err, 'notification')
      this.#nextNote()
    })
  }

  #writeFailed(e: NodeJS.ErrnoException, what: string): void {
    if (e.code === 'ENOENT') return // the request was interrupted or aborted: nobody waits for it
    if (e.code === 'ENODEV' || e.code === 'ECONNABORTED') {
      this.#finish(e.code)
      return
    }
    this.#log(`/dev/fuse ${what} write failed: ${e.code ?? e.message}`)
  }

  /** Ends the connection from our side (the kernel aborts it: pending requests fail with ENOTCONN) and closes the fd. */
  close(): void {
    this.#finish('closed')
  }

  #finish(why: CloseReason): void {
    if (!this.#open) return
    this.#open = false
    // A notification in flight on the threadpool still uses the fd: it is closed after it.
    if (!this.#noting) this.#release()
    this.#done(why)
  }

  #release(): void {
    if (this.#socket !== undefined) {
      // Closes the fd (uv_close) once libuv is done with it.
      this.#socket.destroy()
    } else {
      try {
        closeSync(this.fd)
      } catch {
        // already closed: nothing left to release
      }
    }
  }
}

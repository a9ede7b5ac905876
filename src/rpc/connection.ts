// One TCP connection carrying many ONC RPC calls at once (RFC 5531).
//
// Calls are matched to replies by xid through a Map, so any number can be in flight and
// replies may come back in any order; nothing here serialises callers. Credentials are inside
// each encoded call, never a property of the connection, so calls of different identities
// share it freely.
//
//   call() ──► #pending: Map<xid, Pending> ──► socket.write(record)
//                 ▲                                   │
//   tick (one coarse timer): minor timeout → resend   │ RecordReader
//                 major timeout → RpcTimeoutError     ▼
//   reply ◄── #pending.get(xid) ◄──────────── onRecord(msg)
//
// When the server drops the connection (idle timeout, restart, blip) the pending calls stay
// in the table; the connection reconnects with backoff and resends them with the same xid
// (NFSv3 servers keep a duplicate request cache for non-idempotent calls).
//
// Soft and hard (nfs(5)): a soft call fails with RpcTimeoutError at its major timeout
// (timeoutMs x (retrans + 1)); a hard call never fails for want of an answer and starts over.
// Either way, a major timeout on a connection that brought no reply for that long replaces it
// with a fresh one (a peer that accepts but stopped answering, a stuck proxy, a connection lost
// in the network are only noticed that way: otherwise every later call would meet the same
// silence), and onServerStatus(false) says the server is not responding; the first reply after
// that says onServerStatus(true). Only close() ends hard calls. A retransmission is written only
// when the socket has handed everything before it to the kernel, so a silent peer costs at most
// one queued copy of each call, never one per tick.

import * as net from 'node:net'
import { RecordReader } from './record.js'
import { RpcClosedError, RpcConnectError, RpcTimeoutError } from './errors.js'
import type { RpcTransport } from './transport.js'

export interface RpcConnectionOptions {
  host: string
  port: number
  /** Bind a source port in 512..1023 (root only); "secure" exports refuse others. */
  reservedPort: boolean
  /** Minor timeout in ms: an unanswered call is retransmitted after this long. */
  timeoutMs: number
  /** Retransmissions before the call fails with RpcTimeoutError (soft semantics). */
  retrans: number
  /** Largest reply record accepted, in bytes. */
  maxRecord: number
  /** Reopen the connection after it drops (long-lived NFS connection) instead of failing calls. */
  reconnect: boolean
  /** Start in hard mode (see setHard); default soft. */
  hard?: boolean
  /** Told when the server stops answering within a major timeout (false) and when it answers again (true). */
  onServerStatus?: (responding: boolean) => void
  /**
   * The server closed or reset the connection (not close(), not a drop for silence). A lock
   * client hears a server restart this way: its locks are gone and must be reclaimed.
   */
  onDrop?: () => void
}

export interface RpcConnectionStats {
  calls: number
  /** Replies matched to a call (a reply to a retransmitted call counts once). */
  replies: number
  /** Calls waiting for a reply at the time of the snapshot. */
  inFlight: number
  /** Calls per procedure number (of any program on this connection). */
  byProc: Record<number, number>
  maxInFlight: number
  retransmits: number
  reconnects: number
  /**
   * Ticks on which a call reached its major timeout (soft: it failed; hard: it started over);
   * the connection was replaced if it had been silent for as long.
   */
  majorTimeouts: number
}

interface Pending {
  readonly xid: number
  readonly prog: number
  readonly proc: number
  readonly record: Buffer | readonly Buffer[]
  readonly resolve: (msg: Buffer) => void
  readonly reject: (err: Error) => void
  readonly started: number
  deadline: number
  tries: number
  /** Written on the current socket (false after a reconnect until resent). */
  sent: boolean
}

/** Reserved ports live in 512..1023; 1023 down to 665 stays clear of the well-known services. */
const RESERVED_LOW = 512
const RESERVED_HIGH = 1023
/** Granularity of timeouts: one timer for the whole table instead of one per call. */
const TICK_MS = 100
const RECONNECT_MIN_MS = 50
const RECONNECT_MAX_MS = 2000

export class RpcConnection implements RpcTransport {
  readonly #opts: RpcConnectionOptions
  readonly #pending = new Map<number, Pending>()
  #socket: net.Socket | null = null
  #connecting: Promise<void> | null = null
  #closed = false
  #xid: number
  #tick: NodeJS.Timeout
  #backoff = RECONNECT_MIN_MS
  #reconnectTimer: NodeJS.Timeout | null = null
  #hard: boolean
  /** A major timeout passed without any reply: the server counts as not responding until one arrives. */
  #silent = false
  /** When the current socket last delivered a reply (or was attached). */
  #lastReplyAt = 0
  /** Why the last connection was lost since the last reply (for the timeout error), or null. */
  #lastDrop: string | null = null
  /** The socket #onMajorTimeout destroyed for its silence (its close is ours, not the server's). */
  #silentDestroyed: net.Socket | null = null
  /** The socket corked until the end of this tick (see #send), or null. */
  #corked: net.Socket | null = null
  #stats: Omit<RpcConnectionStats, 'inFlight'> = { calls: 0, replies: 0, byProc: {}, maxInFlight: 0, retransmits: 0, reconnects: 0, majorTimeouts: 0 }

  private constructor(opts: RpcConnectionOptions) {
    this.#opts = opts
    this.#hard = opts.hard ?? false
    this.#xid = (Math.random() * 0x7fffffff) >>> 0
    this.#tick = setInterval(() => this.#onTick(), TICK_MS)
    // Ref'd only while calls are pending (see #track): an idle connection never holds the
    // process open, a waiting call always does. Between two dials to a server that drops every
    // connection there is no socket, and the backoff timer is unref'd: without this a process
    // with nothing else to do (the CLI while mounting) would exit 0 with the call unsettled.
    this.#tick.unref()
  }

  /**
   * Opens the connection. Resolves once TCP is established; rejects with RpcConnectError
   * (refused, unreachable, no reserved port) without retrying, so a mount fails fast.
   */
  static async open(opts: RpcConnectionOptions): Promise<RpcConnection> {
    const conn = new RpcConnection(opts)
    try {
      await conn.#connect()
    } catch (err) {
      clearInterval(conn.#tick)
      conn.#closed = true
      throw err
    }
    return conn
  }

  nextXid(): number {
    this.#xid = (this.#xid + 1) >>> 0
    return this.#xid
  }

  get inFlight(): number {
    return this.#pending.size
  }

  /** The address this end of the connection has (what the server sees as the client's), while connected. */
  get localAddress(): string | undefined {
    return this.#socket?.localAddress
  }

  /** True when calls retry until answered (hard) instead of failing at their major timeout (soft). */
  get hard(): boolean {
    return this.#hard
  }

  /**
   * Switches between soft and hard for the calls in flight and those to come. A mount starts
   * soft, so a server that does not answer fails the mount instead of hanging it, and turns hard
   * once it serves.
   */
  setHard(on: boolean): void {
    this.#hard = on
  }

  stats(): RpcConnectionStats {
    return { ...this.#stats, inFlight: this.#pending.size, byProc: { ...this.#stats.byProc } }
  }

  /**
   * Sends one encoded call (record mark included; an array is written back to back, e.g.
   * WRITE header + data + pad). Resolves with the reply message (record marks stripped); from then
   * on the record's buffers are the caller's again (nothing of ours still queues them).
   * Rejects with RpcTimeoutError after timeoutMs x (retrans + 1) when soft (never when hard),
   * RpcClosedError if close() is called first.
   */
  call(xid: number, prog: number, proc: number, record: Buffer | readonly Buffer[]): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new RpcClosedError())
    return new Promise<Buffer>((resolve, reject) => {
      const now = Date.now()
      const p: Pending = { xid, prog, proc, record, resolve, reject, started: now, deadline: now + this.#opts.timeoutMs, tries: 0, sent: false }
      this.#pending.set(xid, p)
      this.#track()
      this.#stats.calls++
      this.#stats.byProc[proc] = (this.#stats.byProc[proc] ?? 0) + 1
      if (this.#pending.size > this.#stats.maxInFlight) this.#stats.maxInFlight = this.#pending.size
      const sock = this.#socket
      if (sock !== null && !this.#connecting) this.#send(sock, p)
      else this.#ensureConnected()
    })
  }

  /**
   * Drops the current socket if it has delivered no reply since `since` (Date.now() ms; attaching
   * a socket counts as a reply): a sibling connection to the same server was just found silent for
   * a whole major timeout, and this one has no evidence of life either (RpcConnectionPool). Calls
   * in flight are resent on a fresh socket; an idle connection reconnects at its next call.
   * Returns true when the socket was dropped. A last reply exactly at `since` counts as silence,
   * as in #onMajorTimeout: a sibling attached in the same millisecond as the failed call was sent
   * has shown no more life than the silent connection.
   */
  dropIfSilentSince(since: number): boolean {
    const sock = this.#socket
    if (sock === null || this.#connecting !== null || this.#lastReplyAt > since) return false
    this.#silentDestroyed = sock
    sock.destroy()
    return true
  }

  /** Fails pending calls with RpcClosedError and closes the socket. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#tick)
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer)
    const err = new RpcClosedError()
    for (const p of this.#pending.values()) p.reject(err)
    this.#pending.clear()
    const sock = this.#socket
    this.#socket = null
    if (sock && !sock.destroyed) {
      await new Promise<void>((resolve) => {
        sock.once('close', () => resolve())
        sock.end()
        setTimeout(() => sock.destroy(), 1000).unref()
      })
    }
  }

  /**
   * Writes a call. The socket stays corked for a while, so calls made together (a pooled engine's
   * batch, a WRITE's header + data + pad) leave in one writev instead of one system call each:
   * - alone in flight, until the end of this tick: a lone call (a stat's LOOKUP) must not wait;
   * - with other calls in flight, until the end of this turn of the event loop (setImmediate), so
   *   the calls of all FUSE requests handed over in one turn go out together. Each FUSE request
   *   arrives in a callback of its own, and one write per RPC cost 14% of the main thread at 16
   *   random readers; batching them gave 12.3-13.6k IOPS instead of 9.9-11.4k, where a lone stat
   *   loop lost 12% when it waited for the end of the turn too.
   */
  #send(sock: net.Socket, p: Pending, retransmission = false): void {
    p.sent = true
    if (this.#corked !== sock) {
      this.#corked = sock
      sock.cork()
      const uncork = (): void => {
        if (this.#corked === sock) this.#corked = null
        sock.uncork()
      }
      if (this.#pending.size > 1) setImmediate(uncork)
      else process.nextTick(uncork)
    }
    if (retransmission) {
      // A copy: the reply to the first transmission may arrive while this one still waits in the
      // socket's queue, and the caller may then reuse its buffers (write-behind recycles them).
      sock.write(Buffer.isBuffer(p.record) ? Buffer.from(p.record) : Buffer.concat(p.record as readonly Buffer[]))
    } else if (Buffer.isBuffer(p.record)) {
      sock.write(p.record)
    } else {
      for (const b of p.record as readonly Buffer[]) sock.write(b)
    }
  }

  #ensureConnected(): void {
    if (this.#closed || this.#connecting || this.#reconnectTimer) return
    if (this.#socket !== null) return
    this.#connect().catch((err: Error) => {
      this.#lastDrop = err.message
      this.#scheduleReconnect()
    })
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer || this.#pending.size === 0) return
    const delay = this.#backoff
    this.#backoff = Math.min(this.#backoff * 2, RECONNECT_MAX_MS)
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null
      this.#ensureConnected()
    }, delay)
    this.#reconnectTimer.unref()
  }

  #connect(): Promise<void> {
    const attempt = this.#openSocket().then((sock) => {
      this.#connecting = null
      if (this.#closed) {
        sock.destroy()
        return
      }
      this.#attach(sock)
    }, (err: unknown) => {
      this.#connecting = null
      throw err
    })
    this.#connecting = attempt
    return attempt
  }

  async #openSocket(): Promise<net.Socket> {
    const { host, port, reservedPort } = this.#opts
    if (!reservedPort) return connectOnce(host, port, undefined)
    // In random order over the whole range: other RPC clients on the host (libtirpc's
    // bindresvport, a lock manager's status monitor calls) take reserved ports one after the
    // other and leave them in TIME_WAIT for a minute, so the taken ones come in long runs and a
    // scan from one random start can meet nothing but them.
    const order = Array.from({ length: RESERVED_HIGH - RESERVED_LOW + 1 }, (_, i) => RESERVED_LOW + i)
    let last: RpcConnectError | null = null
    for (let i = 0; i < order.length; i++) {
      const j = i + Math.floor(Math.random() * (order.length - i))
      const candidate = order[j]!
      order[j] = order[i]!
      try {
        return await connectOnce(host, port, candidate)
      } catch (err) {
        last = err as RpcConnectError
        if (last.cause.code !== 'EADDRINUSE' && last.cause.code !== 'EADDRNOTAVAIL') throw last
      }
    }
    throw last ?? new RpcConnectError(host, port, Object.assign(new Error('no reserved port free'), { code: 'EADDRINUSE' }))
  }

  #attach(sock: net.Socket): void {
    this.#socket = sock
    // The reconnect backoff is reset by the first reply, not by the connect: a server that
    // accepts and drops at once must not be redialled every RECONNECT_MIN_MS.
    this.#lastReplyAt = Date.now()
    sock.setNoDelay(true)
    sock.setKeepAlive(true, 30_000)
    const reader = new RecordReader(this.#opts.maxRecord, (msg) => this.#onReply(msg))
    let dropped: string | null = null
    sock.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk)
      } catch (err) {
        // An oversized or corrupt record: the stream position is lost, so drop the
        // connection; pending calls are resent on a fresh one.
        dropped = (err as Error).message
        sock.destroy()
      }
    })
    sock.on('error', (err: NodeJS.ErrnoException) => {
      dropped ??= err.code === 'ECONNRESET' ? 'the server reset the connection' : `connection error ${err.code ?? err.message}`
    })
    sock.on('close', () => {
      if (this.#socket !== sock) return
      // A connection we dropped for its silence says nothing the timeout does not.
      if (sock !== this.#silentDestroyed) this.#lastDrop = dropped ?? 'the server closed the connection'
      const ours = sock === this.#silentDestroyed
      this.#silentDestroyed = null
      this.#socket = null
      if (!ours && !this.#closed) this.#opts.onDrop?.()
      for (const p of this.#pending.values()) p.sent = false
      if (this.#closed) return
      if (!this.#opts.reconnect) {
        const err = new RpcClosedError()
        for (const p of this.#pending.values()) p.reject(err)
        this.#pending.clear()
        this.#track()
        return
      }
      this.#stats.reconnects++
      this.#scheduleReconnect()
    })
    for (const p of this.#pending.values()) {
      if (!p.sent) this.#send(sock, p)
    }
  }

  #onReply(msg: Buffer): void {
    if (msg.length < 4) return
    const xid = msg.readUInt32BE(0)
    const p = this.#pending.get(xid)
    // Unknown xid: a late duplicate of a retransmitted call, or garbage. Either way not ours.
    if (p === undefined) return
    this.#pending.delete(xid)
    this.#stats.replies++
    this.#track()
    this.#lastReplyAt = Date.now()
    this.#lastDrop = null
    this.#backoff = RECONNECT_MIN_MS
    if (this.#silent) {
      this.#silent = false
      this.#opts.onServerStatus?.(true)
    }
    p.resolve(msg)
  }

  /** Holds the event loop open exactly while calls are pending. */
  #track(): void {
    if (this.#pending.size === 0) this.#tick.unref()
    else if (!this.#tick.hasRef()) this.#tick.ref()
  }

  #onTick(): void {
    if (this.#pending.size === 0) return
    const now = Date.now()
    const { timeoutMs, retrans } = this.#opts
    let majorTimeout = false
    for (const p of this.#pending.values()) {
      if (p.deadline > now) continue
      if (p.tries >= retrans) {
        // The connection itself is judged below, after the calls.
        majorTimeout = true
        if (!this.#hard) {
          this.#pending.delete(p.xid)
          this.#track()
          p.reject(new RpcTimeoutError(p.prog, p.proc, now - p.started, this.#lastDrop ?? undefined))
          continue
        }
        // Hard: start this call's retries over.
        p.tries = 0
        p.deadline = now + timeoutMs
        continue
      }
      p.tries++
      p.deadline = now + timeoutMs
      this.#stats.retransmits++
      const sock = this.#socket
      // Bytes still queued in our own buffer mean the earlier copy has not left yet: another
      // copy would only grow memory behind a peer that does not read.
      if (sock !== null && !this.#connecting && sock.writableLength === 0) this.#send(sock, p, true)
    }
    if (majorTimeout) this.#onMajorTimeout(now)
    if (this.#socket === null) this.#ensureConnected()
  }

  /** A call went unanswered for a whole major timeout (soft: it has just failed; hard: it starts over). */
  #onMajorTimeout(now: number): void {
    this.#stats.majorTimeouts++
    if (!this.#silent) {
      this.#silent = true
      this.#opts.onServerStatus?.(false)
    }
    // Replies still arriving mean the connection works and only some calls were lost: resending
    // (done above) is enough. Silence for a whole major timeout: try a fresh connection.
    const major = this.#opts.timeoutMs * (this.#opts.retrans + 1)
    const sock = this.#socket
    if (sock !== null && now - this.#lastReplyAt >= major) {
      this.#silentDestroyed = sock
      sock.destroy()
    }
  }
}

/** A SYN that nobody answers would otherwise wait for the kernel's ~2 min connect timeout. */
const CONNECT_TIMEOUT_MS = 10_000

function connectOnce(host: string, port: number, localPort: number | undefined): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, ...(localPort !== undefined ? { localPort } : {}) })
    const timer = setTimeout(() => onError(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS)
    function onError(err: NodeJS.ErrnoException): void {
      clearTimeout(timer)
      sock.destroy()
      reject(new RpcConnectError(host, port, err))
    }
    sock.once('error', onError)
    sock.once('connect', () => {
      clearTimeout(timer)
      sock.off('error', onError)
      resolve(sock)
    })
  })
}

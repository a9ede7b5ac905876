// Several RpcConnections to one server behind the RpcTransport interface (nconnect).
//
//   call() ──► fits under the caps? ──no──► #queue (FIFO) ──► drained as calls settle
//                 │ yes                                     (soft: fails at the major timeout)
//                 ▼
//   least loaded connection: fewest calls in flight, then fewest bytes (sent + expected back)
//        ┌────────────┬────────────┐
//      conn 0       conn 1  ...  conn N-1   each: own socket, xid table, retransmit timer,
//                                           reconnect-and-resend, reserved source port
//
// Each connection keeps RpcConnection's semantics unchanged (soft/hard, retransmit, reconnect,
// replacing a connection silent for a whole major timeout): the pool only chooses where a call
// goes, so a connection that stalls keeps its calls (they are resent on its fresh socket) while
// new calls go to the others, whose load stays lower. xids come from the pool, so they are unique
// across connections as well. One thing the pool adds: when a connection is found silent for a
// whole major timeout, its siblings that have not had a reply for as long are dropped too (they
// reconnect at their next call). They go to the same server the same way; without this an idle
// connection lost in the network would only be found by the next call sent on it, which a soft
// mount would fail.
//
// Caps: calls and bytes in flight are bounded for the whole pool; beyond them calls wait in the
// queue, where they cost nothing on the server and their retransmit timers have not started.
// A single call larger than the byte cap still goes out, alone.
import { RpcConnection, type RpcConnectionOptions, type RpcConnectionStats } from './connection.js'
import { RpcClosedError, RpcTimeoutError } from './errors.js'
import type { RpcTransport } from './transport.js'
import { ServerStatus } from './server-status.js'

/**
 * Calls in flight per pool. 16 fio threads or 16 parallel readers put 15-16 calls in flight here
 * (each FUSE request makes one call at a time), and nfs-ganesha dispatches at most 512 requests
 * per connection (Dispatch_Max_Reqs_Xprt); 128 is far above the first, so it never binds in normal
 * use, and far enough below the second that a runaway producer queues here, where waiting is free
 * and a call's timeout has not started, instead of in the server's queue.
 */
export const DEFAULT_MAX_CALLS_IN_FLIGHT = 128
/**
 * Bytes in flight per pool: WRITE data sent plus READ data expected back. Every reply record is
 * reassembled in memory before it is decoded, so this bounds that memory: 64 READs of 1 MiB (the
 * largest rsize). The daemon's RSS target is 200 MiB for a 1 GiB write to a slow server: about 53
 * MiB idle + the 48 MiB write budget (WRITE data in flight is part of it, not extra) + 64 MiB of
 * replies stays under it.
 */
export const DEFAULT_MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024
/** How often queued calls are checked against their soft major timeout. */
const QUEUE_TICK_MS = 100

export interface RpcConnectionPoolOptions extends RpcConnectionOptions {
  /** Connections to open (nconnect), 1 or more. */
  connections: number
  /** Calls in flight on all connections together before calls queue (default DEFAULT_MAX_CALLS_IN_FLIGHT). */
  maxCallsInFlight?: number
  /** Bytes in flight (sent + expected back) before calls queue (default DEFAULT_MAX_BYTES_IN_FLIGHT). */
  maxBytesInFlight?: number
}

interface Slot {
  readonly conn: RpcConnection
  calls: number
  bytes: number
}

interface Queued {
  readonly xid: number
  readonly prog: number
  readonly proc: number
  readonly record: Buffer | readonly Buffer[]
  readonly bytes: number
  readonly queuedAt: number
  readonly resolve: (msg: Buffer) => void
  readonly reject: (err: Error) => void
}

export class RpcConnectionPool implements RpcTransport {
  readonly #slots: Slot[] = []
  /** The server's status over all connections (by index). */
  readonly #status: ServerStatus
  readonly #opts: RpcConnectionPoolOptions
  readonly #maxCalls: number
  readonly #maxBytes: number
  readonly #queue: Queued[] = []
  #queueHead = 0
  #queueTimer: NodeJS.Timeout | null = null
  #calls = 0
  #bytes = 0
  #maxInFlight = 0
  #next = 0
  #xid: number
  #hard: boolean
  #closed = false

  private constructor(opts: RpcConnectionPoolOptions) {
    this.#opts = opts
    this.#status = new ServerStatus(opts.onServerStatus)
    this.#maxCalls = Math.max(1, opts.maxCallsInFlight ?? DEFAULT_MAX_CALLS_IN_FLIGHT)
    this.#maxBytes = Math.max(1, opts.maxBytesInFlight ?? DEFAULT_MAX_BYTES_IN_FLIGHT)
    this.#hard = opts.hard ?? false
    this.#xid = (Math.random() * 0x7fffffff) >>> 0
  }

  /**
   * Opens all connections at once. Resolves when every one is established; rejects with the
   * first RpcConnectError (the others are closed again), so a mount fails fast.
   * onServerStatus is told once when any connection stops answering (false) and once when all
   * that had stopped answer again (true).
   */
  static async open(opts: RpcConnectionPoolOptions): Promise<RpcConnectionPool> {
    const n = Math.max(1, Math.floor(opts.connections))
    const pool = new RpcConnectionPool(opts)
    const settled = await Promise.allSettled(Array.from({ length: n }, (_, i) => RpcConnection.open({ ...opts, onServerStatus: (up) => pool.#onStatus(i, up) })))
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (failed !== undefined) {
      await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)))
      throw failed.reason
    }
    for (const s of settled) pool.#slots.push({ conn: (s as PromiseFulfilledResult<RpcConnection>).value, calls: 0, bytes: 0 })
    return pool
  }

  /**
   * Drops every connection that has had no reply for a whole major timeout (they reconnect at
   * their next call). For the pool's own siblings rule, and for an engine whose other pools just
   * found the server silent. Returns how many were dropped.
   */
  dropSilentConnections(except = -1): number {
    const since = Date.now() - this.#opts.timeoutMs * (this.#opts.retrans + 1)
    let n = 0
    this.#slots.forEach((s, i) => {
      if (i !== except && s.conn.dropIfSilentSince(since)) n++
    })
    return n
  }

  /** A connection's server status: reported once for the pool; a silent one makes its silent siblings go too. */
  #onStatus(i: number, up: boolean): void {
    if (!up) this.dropSilentConnections(i)
    this.#status.report(i, up)
  }

  get connections(): number {
    return this.#slots.length
  }

  nextXid(): number {
    this.#xid = (this.#xid + 1) >>> 0
    return this.#xid
  }

  get inFlight(): number {
    return this.#calls + this.#queue.length - this.#queueHead
  }

  get hard(): boolean {
    return this.#hard
  }

  setHard(on: boolean): void {
    this.#hard = on
    for (const s of this.#slots) s.conn.setHard(on)
  }

  /**
   * Counters summed over the connections. `inFlight` counts queued calls too, and `maxInFlight`
   * is the most calls the pool had outstanding at once (not the sum of each connection's peak).
   */
  stats(): RpcConnectionStats {
    const out: RpcConnectionStats = { calls: 0, replies: 0, inFlight: this.inFlight, byProc: {}, maxInFlight: this.#maxInFlight, retransmits: 0, reconnects: 0, majorTimeouts: 0 }
    for (const { conn } of this.#slots) {
      const s = conn.stats()
      out.calls += s.calls
      out.replies += s.replies
      out.retransmits += s.retransmits
      out.reconnects += s.reconnects
      out.majorTimeouts += s.majorTimeouts
      for (const [proc, n] of Object.entries(s.byProc)) out.byProc[Number(proc)] = (out.byProc[Number(proc)] ?? 0) + n
    }
    return out
  }

  /** Per connection: calls and bytes in flight now (what the spreading looks at). */
  load(): { calls: number; bytes: number }[] {
    return this.#slots.map((s) => ({ calls: s.calls, bytes: s.bytes }))
  }

  /** The RpcConnection.call contract, on the least loaded connection (see the file header). */
  call(xid: number, prog: number, proc: number, record: Buffer | readonly Buffer[], replyBytes = 0): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new RpcClosedError())
    const bytes = recordBytes(record) + replyBytes
    if (this.#queueHead === this.#queue.length && this.#fits(bytes)) {
      const p = this.#dispatch(xid, prog, proc, record, bytes)
      this.#peak()
      return p
    }
    return new Promise<Buffer>((resolve, reject) => {
      this.#queue.push({ xid, prog, proc, record, bytes, queuedAt: Date.now(), resolve, reject })
      this.#peak()
      if (this.#queueTimer === null) this.#queueTimer = setInterval(() => this.#expireQueued(), QUEUE_TICK_MS)
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#stopQueueTimer()
    const err = new RpcClosedError()
    for (let i = this.#queueHead; i < this.#queue.length; i++) this.#queue[i]!.reject(err)
    this.#queue.length = 0
    this.#queueHead = 0
    await Promise.all(this.#slots.map((s) => s.conn.close()))
  }

  #fits(bytes: number): boolean {
    if (this.#calls === 0) return true
    return this.#calls < this.#maxCalls && this.#bytes + bytes <= this.#maxBytes
  }

  #peak(): void {
    const n = this.inFlight
    if (n > this.#maxInFlight) this.#maxInFlight = n
  }

  #pick(): Slot {
    const slots = this.#slots
    const n = slots.length
    if (n === 1) return slots[0]!
    // Start after the last choice so that ties rotate instead of always landing on connection 0.
    const start = this.#next
    let best = slots[start]!
    for (let k = 1; k < n; k++) {
      const s = slots[(start + k) % n]!
      if (s.calls < best.calls || (s.calls === best.calls && s.bytes < best.bytes)) best = s
    }
    this.#next = (slots.indexOf(best) + 1) % n
    return best
  }

  #dispatch(xid: number, prog: number, proc: number, record: Buffer | readonly Buffer[], bytes: number): Promise<Buffer> {
    const slot = this.#pick()
    slot.calls++
    slot.bytes += bytes
    this.#calls++
    this.#bytes += bytes
    const done = (): void => {
      slot.calls--
      slot.bytes -= bytes
      this.#calls--
      this.#bytes -= bytes
      this.#drain()
    }
    const p = slot.conn.call(xid, prog, proc, record)
    p.then(done, done)
    return p
  }

  #drain(): void {
    while (this.#queueHead < this.#queue.length && !this.#closed) {
      const q = this.#queue[this.#queueHead]!
      if (!this.#fits(q.bytes)) return
      this.#queue[this.#queueHead++] = undefined as unknown as Queued
      this.#dispatch(q.xid, q.prog, q.proc, q.record, q.bytes).then(q.resolve, q.reject)
    }
    // A queue that never empties under sustained load: drop the consumed head now and then.
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead)
      this.#queueHead = 0
    }
    if (this.#queueHead === this.#queue.length) {
      this.#queue.length = 0
      this.#queueHead = 0
      this.#stopQueueTimer()
    }
  }

  /**
   * Soft: a call that waited in the queue for a whole major timeout fails as if it had been sent
   * and not answered (the calls ahead of it are stuck on a server that does not answer).
   */
  #expireQueued(): void {
    if (this.#hard) return
    const limit = this.#opts.timeoutMs * (this.#opts.retrans + 1)
    const now = Date.now()
    const keep: Queued[] = []
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      const q = this.#queue[i]!
      if (now - q.queuedAt >= limit) q.reject(new RpcTimeoutError(q.prog, q.proc, now - q.queuedAt, 'queued behind the calls in flight'))
      else keep.push(q)
    }
    this.#queue.length = 0
    this.#queue.push(...keep)
    this.#queueHead = 0
    if (keep.length === 0) this.#stopQueueTimer()
  }

  #stopQueueTimer(): void {
    if (this.#queueTimer !== null) clearInterval(this.#queueTimer)
    this.#queueTimer = null
  }
}

function recordBytes(record: Buffer | readonly Buffer[]): number {
  if (Buffer.isBuffer(record)) return record.length
  let n = 0
  for (const b of record as readonly Buffer[]) n += b.length
  return n
}

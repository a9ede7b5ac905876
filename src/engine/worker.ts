// A pooled engine's worker (piscina task). One long-lived task per worker thread: it loads its
// own WASM codec, opens its own NFS connection(s) (RpcConnectionPool, nconnect), and serves the
// MessagePort it was given until told to close. src/rpc and src/proto run here unchanged; the
// protocol of the port is in wire.ts.
//
//   port 'calls' ─► credentials defined ─► Nfs3Client.<op>(cred, ...args) per call ─► drops
//                                               │ settles (any order, any time)
//   port ◄── 'replies' (one per event-loop turn) ◄── #ok / #err + bytes packed, READ data moved
import type { MessagePort } from 'node:worker_threads'
import { XdrCodec } from '../xdr/codec.js'
import { RpcConnectionPool, type RpcConnectionPoolOptions } from '../rpc/index.js'
import { Nfs3Client, type CallCredential } from '../proto/nfs3/index.js'
import { TapeRing, TapeWriter } from './result-tape.js'
import {
  asBuffer, errorToWire, OPS, OP_CREATE, OP_WRITE, WRITE_DATA_ARG,
  S_BATCHES_IN, S_BATCHES_OUT, S_BY_PROC, S_CALLS, S_CREDS_DEFINED, S_IN_FLIGHT, S_MAJOR_TIMEOUTS, S_MAX_IN_FLIGHT,
  S_READS_COPIED, S_READS_MOVED, S_RECONNECTS, S_REPLIES, S_RETRANSMITS, S_WRITES_COPIED, S_WRITES_SHARED, BY_PROC_SLOTS,
  type FromWorker, type ToWorker, type WireCall, type WireError, type WorkerOutcome,
} from './wire.js'
import type { WireCredential } from './credentials.js'

export interface WorkerTask {
  port: MessagePort
  /** Connection options for this worker's RpcConnectionPool (no callbacks: they cannot cross). */
  rpc: Omit<RpcConnectionPoolOptions, 'onServerStatus'>
  /** Float64Array(STATS_SLOTS) memory this worker keeps its counters in. */
  stats: SharedArrayBuffer
  /** The ring this worker writes its result tapes into (result-tape.ts createRingMemory). */
  ring: SharedArrayBuffer
}

/**
 * READ data below this size is copied rather than moved: the record's ArrayBuffer is then small,
 * and may be one of Node's shared 8 KiB pool slabs.
 */
const MOVE_MIN_BYTES = 16 * 1024
/** The most bytes of RPC and NFS header that sit before READ data in its record (see xdr/codec.ts). */
const READ_HEADER_MAX = 1024
/**
 * Counters are written with every reply message, and this often while calls are pending without
 * replies (calls sent to a server that does not answer, retransmits, reconnects).
 */
const STATS_REFRESH_MS = 50

/** Serves `task.port` until 'close'; resolves once the connections are closed. */
export default async function serve(task: WorkerTask): Promise<WorkerOutcome> {
  const { port } = task
  const post = (m: FromWorker, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer)
  let pool: RpcConnectionPool
  try {
    pool = await RpcConnectionPool.open({ ...task.rpc, onServerStatus: (up) => post({ t: 'status', up }) })
  } catch (err) {
    port.close()
    return { failed: errorToWire(err) }
  }
  const server = new WorkerServer(port, pool, new Float64Array(task.stats), new TapeRing(task.ring))
  post({ t: 'ready' })
  await server.closed
  return undefined
}

class WorkerServer {
  readonly closed: Promise<void>
  readonly #port: MessagePort
  readonly #pool: RpcConnectionPool
  readonly #client: Nfs3Client
  readonly #stats: Float64Array
  readonly #creds = new Map<number, CallCredential>()
  readonly #tape = new TapeWriter()
  readonly #ring: TapeRing
  #err: [number, WireError][] = []
  #flushScheduled = false
  #batchesIn = 0
  #batchesOut = 0
  #credsDefined = 0
  readonly #moves = { readsMoved: 0, readsCopied: 0, writesShared: 0, writesCopied: 0 }
  readonly #refresh: NodeJS.Timeout

  constructor(port: MessagePort, pool: RpcConnectionPool, stats: Float64Array, ring: TapeRing) {
    this.#port = port
    this.#ring = ring
    this.#pool = pool
    this.#client = new Nfs3Client(pool, XdrCodec.load())
    this.#stats = stats
    this.#refresh = setInterval(() => { if (this.#pool.inFlight > 0) this.#writeStats() }, STATS_REFRESH_MS)
    this.#refresh.unref()
    let done!: () => void
    this.closed = new Promise<void>((r) => { done = r })
    port.on('message', (m: ToWorker) => {
      switch (m.t) {
        case 'calls': this.#onCalls(m.creds, m.calls, m.drop); break
        case 'hard': this.#pool.setHard(m.on); break
        case 'suspect': this.#pool.dropSilentConnections(); break
        case 'close': void this.#close().then(done); break
      }
    })
  }

  #onCalls(defs: WireCredential[], calls: WireCall[], drop: number[]): void {
    this.#batchesIn++
    for (const [id, auth, map] of defs) {
      this.#creds.set(id, { auth, map })
      this.#credsDefined++
    }
    for (const call of calls) this.#run(call)
    for (const id of drop) this.#creds.delete(id)
  }

  #run(call: WireCall): void {
    const callId = call[0]
    const op = call[1]
    const cred = this.#creds.get(call[2])
    if (cred === undefined) {
      this.#settle(callId, op, null, errorToWire(Object.assign(new Error(`credential ${call[2]} unknown to the worker`), { code: 'ERR_ENGINE_PROTOCOL', errno: 5 })))
      return
    }
    // The call array is ours: its arguments (from index 3) become Buffers where they are bytes.
    for (let i = 3; i < call.length; i++) {
      const a = call[i]
      if (a instanceof Uint8Array) {
        if (op === OP_WRITE && i - 3 === WRITE_DATA_ARG) {
          if (a.buffer instanceof SharedArrayBuffer) this.#moves.writesShared++
          else this.#moves.writesCopied++
        }
        call[i] = asBuffer(a)
      }
    }
    if (op === OP_CREATE) {
      const how = call[5] as { verf?: Uint8Array }
      if (how.verf instanceof Uint8Array) how.verf = asBuffer(how.verf)
    }
    const fn = this.#client[OPS[op]!] as (cred: CallCredential, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, f: unknown) => Promise<unknown>
    let p: Promise<unknown>
    try {
      // Six arguments besides the credential at most (READDIRPLUS, MKNOD); missing ones are undefined, as when omitted.
      p = fn.call(this.#client, cred, call[3], call[4], call[5], call[6], call[7], call[8])
    } catch (err) {
      p = Promise.reject(err)
    }
    p.then((res) => this.#settle(callId, op, res, null), (err: unknown) => this.#settle(callId, op, null, errorToWire(err)))
  }

  #settle(callId: number, op: number, res: unknown, err: WireError | null): void {
    if (err === null) this.#tape.write(callId, op, res as Record<string, unknown>, this.#moveReadData)
    else this.#err.push([callId, err])
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(() => this.#flush())
    }
  }

  /** One 'replies' message for everything that settled this turn. */
  #flush(): void {
    this.#flushScheduled = false
    if (this.#tape.count === 0 && this.#err.length === 0) return
    const parts = this.#tape.finish(this.#ring)
    const transfer = TapeWriter.transferList(parts)
    const msg: FromWorker = { t: 'replies', tape: parts, err: this.#err }
    this.#err = []
    this.#batchesOut++
    // Counters first: the main thread may read them as soon as it has these replies.
    this.#writeStats()
    this.#port.postMessage(msg, transfer)
  }

  /**
   * READ data is a view into the reply record. When the record's ArrayBuffer holds nothing but
   * this record (RecordReader assembled it from several TCP chunks into memory of its own, or one
   * chunk held exactly this record), that ArrayBuffer is transferred as it is; otherwise the data
   * is copied once into a buffer of its own, which is transferred.
   */
  readonly #moveReadData = (data: Uint8Array): Uint8Array => {
    const ab = data.buffer
    const end = data.byteOffset + data.byteLength
    const exclusive = !(ab instanceof SharedArrayBuffer) && data.byteLength >= MOVE_MIN_BYTES &&
      data.byteOffset <= READ_HEADER_MAX && ab.byteLength - end <= 3
    if (exclusive) {
      this.#moves.readsMoved++
      return data
    }
    const copy = new Uint8Array(data.byteLength)
    copy.set(data)
    this.#moves.readsCopied++
    return copy
  }

  #writeStats(): void {
    const s = this.#stats
    const st = this.#pool.stats()
    s[S_CALLS] = st.calls
    s[S_REPLIES] = st.replies
    s[S_IN_FLIGHT] = st.inFlight
    s[S_MAX_IN_FLIGHT] = st.maxInFlight
    s[S_RETRANSMITS] = st.retransmits
    s[S_RECONNECTS] = st.reconnects
    s[S_MAJOR_TIMEOUTS] = st.majorTimeouts
    s[S_READS_MOVED] = this.#moves.readsMoved
    s[S_READS_COPIED] = this.#moves.readsCopied
    s[S_WRITES_SHARED] = this.#moves.writesShared
    s[S_WRITES_COPIED] = this.#moves.writesCopied
    s[S_BATCHES_IN] = this.#batchesIn
    s[S_BATCHES_OUT] = this.#batchesOut
    s[S_CREDS_DEFINED] = this.#credsDefined
    for (const [proc, n] of Object.entries(st.byProc)) {
      const i = Number(proc)
      if (i >= 0 && i < BY_PROC_SLOTS) s[S_BY_PROC + i] = n
    }
  }

  async #close(): Promise<void> {
    clearInterval(this.#refresh)
    await this.#pool.close()
    this.#writeStats()
    // Calls the close failed still answer (the main thread has failed them already; harmless).
    this.#flush()
    this.#port.close()
  }
}

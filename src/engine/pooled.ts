// PooledEngine: NFS calls run in piscina worker threads, each owning a WASM codec and its own
// pipelined connection(s); the main thread keeps FUSE, the caches and the open files, and only
// dispatches.
//
//   main thread                                          worker i (piscina task, see worker.ts)
//   engine.read(cred, fh, ...) ─► least busy worker ─► batch[i] ─┐
//   engine.write(...)          ─►        ...       ─► batch[j]   │ setImmediate: one 'calls'
//   ...  (one event-loop turn)                                   │ message per worker
//                                                                ▼
//   #pending: Map<callId, {resolve, reject}>   ◄── 'replies' (one per worker turn) ◄── Nfs3Client
//                                                                              └─ RpcConnectionPool (nconnect)
//
// Why not one piscina task per call: a task round trip costs 40-75 us here, as much as a whole
// loopback NFS call. piscina only starts and owns the threads; each runs one task for the
// engine's whole life, serving a MessagePort, and calls cross that port in batches.
//
// Ownership. WRITE data comes from allocWriteBuffer(): SharedArrayBuffer memory, so the worker
// sends the very bytes the main thread keeps for a possible rewrite; the caller must leave them
// unchanged while the WRITE is in flight. READ data arrives in an ArrayBuffer transferred to the
// main thread (see wire.ts), which the caller copies once, into the FUSE buffer. A 'calls'
// message packs its file handles and other small byte strings into one transferred ArrayBuffer;
// results come back as a tape of numbers in a ring of shared memory per worker (result-tape.ts).
// Credentials are interned (credentials.ts): defined once per worker, then sent as an id.
// Errors are rehydrated into the classes that were thrown (wire.ts).
//
// Caps: the engine's calls and bytes in flight are split evenly over the workers (each worker's
// RpcConnectionPool enforces its share); calls go to the worker with the fewest outstanding, so
// the shares fill evenly.
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { MessageChannel, type MessagePort, type Worker as NodeWorker } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { DEFAULT_MAX_BYTES_IN_FLIGHT, DEFAULT_MAX_CALLS_IN_FLIGHT, RpcClosedError, ServerStatus, type RpcConnectionStats } from '../rpc/index.js'
import type { CallCredential } from '../proto/nfs3/index.js'
import type { Engine, EngineOptions, Nfs3Ops } from './engine.js'
import { CredentialTable, type WireCredential } from './credentials.js'
import { WriteBufferPool } from './write-buffers.js'
import {
  BytePacker, EngineWorkerError, OP_CODE, OP_CREATE, OP_WRITE, WRITE_DATA_ARG, rehydrateError,
  S_BATCHES_IN, S_BATCHES_OUT, S_BY_PROC, S_CALLS, S_CREDS_DEFINED, S_MAJOR_TIMEOUTS, S_READS_COPIED, S_READS_MOVED,
  S_RECONNECTS, S_REPLIES, S_RETRANSMITS, S_WRITES_COPIED, S_WRITES_SHARED, BY_PROC_SLOTS, STATS_SLOTS,
  type FromWorker, type OpName, type ToWorker, type WireCall, type WireError, type WorkerOutcome,
} from './wire.js'
import type { WorkerTask } from './worker.js'
import { createRingMemory, readTape, TapeRing, type TapeParts } from './result-tape.js'

/** At most this many workers (the `workers` option's range). */
export const MAX_WORKERS = 16
/**
 * A worker's young generation, in MiB. V8's default lets it grow to tens of MiB under the steady
 * allocation of a busy worker, and it also keeps WRITE buffers (shared memory) alive until the
 * next scavenge: with 2 workers, 4 writers through a slow server peaked at 211-241 MiB of daemon
 * RSS with the default and 185 MiB with 4 MiB (inline: 165-175), against a 200 MiB target.
 */
const WORKER_YOUNG_GENERATION_MB = 4
/** How long close() waits for a worker to close its connections before terminating it. */
const CLOSE_WAIT_MS = 5000

export interface PooledEngineOptions extends EngineOptions {
  /** Worker threads, 1..MAX_WORKERS. */
  workers: number
  /** The worker module (default: worker.js beside this file, or worker.ts under tsx). */
  workerFile?: string
}

/** Counters of the pool plumbing itself, summed over the workers (for tests and benchmarks). */
export interface PoolTransferStats {
  /** 'calls' messages the workers received, and 'replies' messages they sent. */
  batchesIn: number
  batchesOut: number
  /** Engine calls dispatched (each is one entry of some batch). */
  dispatched: number
  readsMoved: number
  readsCopied: number
  /** WRITEs whose data reached the worker in shared memory. */
  writesShared: number
  /** WRITEs whose data was copied (into shared memory, by the main thread) because the caller passed other memory. */
  writesCopied: number
  /** Credential definitions the workers received (once per distinct credential and worker). */
  credentialsDefined: number
  /** Distinct credentials the main thread knows now. */
  credentials: number
  /** Write buffers served from the free list. */
  writeBuffersReused: number
}

interface Worker {
  readonly index: number
  readonly port: MessagePort
  readonly stats: Float64Array
  readonly ring: TapeRing
  task: Promise<unknown>
  outstanding: number
  calls: WireCall[]
  defs: WireCredential[]
  drop: number[]
  packer: BytePacker
  /** Why this worker stopped, when it did on its own. */
  dead: Error | null
}

interface Pending {
  readonly resolve: (v: unknown) => void
  readonly reject: (e: Error) => void
  readonly worker: Worker
  /** A shared copy of WRITE data the caller did not allocate with allocWriteBuffer: ours to release. */
  readonly own: Buffer | null
}

export class PooledEngine implements Engine {
  readonly #piscina: Piscina
  readonly #workers: Worker[] = []
  readonly #pending = new Map<number, Pending>()
  readonly #creds = new CredentialTable()
  readonly #buffers = new WriteBufferPool(true)
  /** The server's status over all workers (by index). */
  readonly #status: ServerStatus
  #nextCall = 1
  #next = 0
  #maxInFlight = 0
  #dispatched = 0
  /** WRITE data not from allocWriteBuffer, copied into shared memory here. */
  #writesCopied = 0
  #flushScheduled = false
  #closed = false
  #closing: Promise<void> | null = null

  private constructor(piscina: Piscina, onServerStatus: ((up: boolean) => void) | undefined) {
    this.#piscina = piscina
    this.#status = new ServerStatus(onServerStatus)
  }

  /**
   * Starts the workers and opens every worker's connections. Resolves once all are connected;
   * rejects with the first worker's error (RpcConnectError when the server cannot be reached),
   * after stopping everything it started.
   */
  static async open(opts: PooledEngineOptions): Promise<PooledEngine> {
    // Until every worker answered, only piscina's threads and our ports stand between the caller
    // and an empty event loop; a worker that fails closes its port. Hold the loop ourselves.
    const keepAlive = setInterval(() => undefined, 1 << 30)
    try {
      return await PooledEngine.#open(opts)
    } finally {
      clearInterval(keepAlive)
    }
  }

  static async #open(opts: PooledEngineOptions): Promise<PooledEngine> {
    const n = Math.max(1, Math.min(MAX_WORKERS, Math.floor(opts.workers)))
    const { filename, execArgv } = workerModule(opts.workerFile)
    const piscina = new Piscina({
      filename,
      minThreads: n,
      maxThreads: n,
      concurrentTasksPerWorker: 1,
      // Each worker runs one task for its whole life: it must never block in Atomics.wait.
      atomics: 'disabled',
      idleTimeout: Number.MAX_SAFE_INTEGER,
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
      ...(execArgv !== undefined ? { execArgv } : {}),
    })
    const { onServerStatus, workers: _w, workerFile: _f, nconnect, maxCallsInFlight, maxBytesInFlight, ...rpc } = opts
    const engine = new PooledEngine(piscina, onServerStatus)
    const share = (total: number): number => Math.max(1, Math.ceil(total / n))
    const rpcOpts: WorkerTask['rpc'] = {
      ...rpc,
      connections: Math.max(1, nconnect ?? 1),
      maxCallsInFlight: share(maxCallsInFlight ?? DEFAULT_MAX_CALLS_IN_FLIGHT),
      maxBytesInFlight: share(maxBytesInFlight ?? DEFAULT_MAX_BYTES_IN_FLIGHT),
    }
    const ready = Array.from({ length: n }, (_, i) => engine.#start(i, rpcOpts))
    const results = await Promise.allSettled(ready)
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed !== undefined) {
      await engine.close()
      throw failed.reason
    }
    return engine
  }

  /** Starts worker `index`; resolves when its connections are open. */
  #start(index: number, rpc: WorkerTask['rpc']): Promise<void> {
    const { port1, port2 } = new MessageChannel()
    const stats = new SharedArrayBuffer(STATS_SLOTS * Float64Array.BYTES_PER_ELEMENT)
    const ring = createRingMemory()
    const task: WorkerTask = { port: port2, rpc, stats, ring }
    const w: Worker = {
      index, port: port1, stats: new Float64Array(stats), ring: new TapeRing(ring), task: Promise.resolve(), outstanding: 0,
      calls: [], defs: [], drop: [], packer: new BytePacker(), dead: null,
    }
    this.#workers.push(w)
    return new Promise<void>((resolve, reject) => {
      let started = false
      port1.on('message', (m: FromWorker) => {
        switch (m.t) {
          case 'replies': this.#onReplies(w, m.tape, m.err); break
          case 'status': this.#onStatus(w, m.up); break
          case 'ready': started = true; resolve(); break
        }
      })
      w.task = this.#piscina.run(task, { transferList: [port2] as unknown as ArrayBuffer[] }).then((outcome: WorkerOutcome) => {
        // The task ends after 'close', or at once when the connections did not open.
        if (outcome !== undefined) {
          w.dead = rehydrateError(outcome.failed)
          reject(w.dead)
          return
        }
        if (!started) reject(new EngineWorkerError(`engine worker ${index} stopped before it was ready`))
        if (!this.#closed && w.dead === null) this.#lost(w, new EngineWorkerError(`engine worker ${index} stopped`))
      }, (err: unknown) => {
        const e = new EngineWorkerError(`engine worker ${index} failed: ${(err as Error)?.message ?? String(err)}`)
        if (!started) reject(e)
        if (!this.#closed) this.#lost(w, e)
      })
    })
  }

  // ---- Engine ------------------------------------------------------------------------------

  readonly getattr: Nfs3Ops['getattr'] = (...a) => this.#call('getattr', a)
  readonly setattr: Nfs3Ops['setattr'] = (...a) => this.#call('setattr', a)
  readonly lookup: Nfs3Ops['lookup'] = (...a) => this.#call('lookup', a)
  readonly access: Nfs3Ops['access'] = (...a) => this.#call('access', a)
  readonly readlink: Nfs3Ops['readlink'] = (...a) => this.#call('readlink', a)
  readonly read: Nfs3Ops['read'] = (...a) => this.#call('read', a)
  readonly write: Nfs3Ops['write'] = (...a) => this.#call('write', a)
  readonly create: Nfs3Ops['create'] = (...a) => this.#call('create', a)
  readonly mkdir: Nfs3Ops['mkdir'] = (...a) => this.#call('mkdir', a)
  readonly symlink: Nfs3Ops['symlink'] = (...a) => this.#call('symlink', a)
  readonly mknod: Nfs3Ops['mknod'] = (...a) => this.#call('mknod', a)
  readonly remove: Nfs3Ops['remove'] = (...a) => this.#call('remove', a)
  readonly rmdir: Nfs3Ops['rmdir'] = (...a) => this.#call('rmdir', a)
  readonly rename: Nfs3Ops['rename'] = (...a) => this.#call('rename', a)
  readonly link: Nfs3Ops['link'] = (...a) => this.#call('link', a)
  readonly readdirplus: Nfs3Ops['readdirplus'] = (...a) => this.#call('readdirplus', a)
  readonly fsstat: Nfs3Ops['fsstat'] = (...a) => this.#call('fsstat', a)
  readonly fsinfo: Nfs3Ops['fsinfo'] = (...a) => this.#call('fsinfo', a)
  readonly pathconf: Nfs3Ops['pathconf'] = (...a) => this.#call('pathconf', a)
  readonly commit: Nfs3Ops['commit'] = (...a) => this.#call('commit', a)

  /** SharedArrayBuffer memory: posted to a worker, it is shared, not copied. */
  allocWriteBuffer(length: number): Buffer {
    return this.#buffers.alloc(length)
  }

  releaseWriteBuffer(buf: Buffer): void {
    this.#buffers.release(buf)
  }

  setHard(on: boolean): void {
    // Calls of this turn go first: they were made under the old setting.
    this.#flush()
    for (const w of this.#workers) if (w.dead === null) w.port.postMessage({ t: 'hard', on } satisfies ToWorker)
  }

  /**
   * Counters summed over the workers' connections (as of each worker's last message or refresh,
   * at most STATS_REFRESH_MS old). `inFlight` and `maxInFlight` are counted here: engine calls
   * outstanding now / at most at once (each is one RPC in flight or queued behind the caps).
   */
  stats(): RpcConnectionStats {
    const out: RpcConnectionStats = { calls: 0, replies: 0, inFlight: this.#pending.size, byProc: {}, maxInFlight: this.#maxInFlight, retransmits: 0, reconnects: 0, majorTimeouts: 0 }
    for (const { stats: s } of this.#workers) {
      out.calls += s[S_CALLS]!
      out.replies += s[S_REPLIES]!
      out.retransmits += s[S_RETRANSMITS]!
      out.reconnects += s[S_RECONNECTS]!
      out.majorTimeouts += s[S_MAJOR_TIMEOUTS]!
      for (let p = 0; p < BY_PROC_SLOTS; p++) {
        const v = s[S_BY_PROC + p]!
        if (v > 0) out.byProc[p] = (out.byProc[p] ?? 0) + v
      }
    }
    return out
  }

  transferStats(): PoolTransferStats {
    const sum = (slot: number): number => this.#workers.reduce((a, w) => a + w.stats[slot]!, 0)
    return {
      batchesIn: sum(S_BATCHES_IN),
      batchesOut: sum(S_BATCHES_OUT),
      dispatched: this.#dispatched,
      readsMoved: sum(S_READS_MOVED),
      readsCopied: sum(S_READS_COPIED),
      writesShared: sum(S_WRITES_SHARED),
      writesCopied: this.#writesCopied + sum(S_WRITES_COPIED),
      credentialsDefined: sum(S_CREDS_DEFINED),
      credentials: this.#creds.size,
      writeBuffersReused: this.#buffers.stats().reused,
    }
  }

  get workers(): number {
    return this.#workers.length
  }

  /** The worker threads piscina runs (to read their resource usage, or to stop one in a test). */
  get threads(): readonly NodeWorker[] {
    return this.#piscina.threads
  }

  /**
   * Fails the calls outstanding with RpcClosedError at once, then lets every worker close its
   * connections (up to CLOSE_WAIT_MS) and stops the threads. Resolves when they are gone.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#closed = true
    // piscina unrefs workers without a task: without a handle of our own the process could exit
    // in the middle of this (with nothing else to do, as the CLI while it stops).
    const keepAlive = setInterval(() => undefined, 1 << 30)
    try {
      await this.#shutdown()
    } finally {
      clearInterval(keepAlive)
    }
  }

  async #shutdown(): Promise<void> {
    const err = new RpcClosedError()
    for (const p of this.#pending.values()) this.#settled(p, err, false)
    this.#pending.clear()
    for (const w of this.#workers) {
      w.calls = []
      if (w.dead === null) w.port.postMessage({ t: 'close' } satisfies ToWorker)
    }
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(this.#workers.map((w) => w.task)),
      new Promise((r) => { timer = setTimeout(r, CLOSE_WAIT_MS) }),
    ])
    clearTimeout(timer)
    for (const w of this.#workers) w.port.close()
    await this.#piscina.destroy()
  }

  // ---- dispatch ----------------------------------------------------------------------------

  #call(op: OpName, a: unknown[]): Promise<never> {
    if (this.#closed) return Promise.reject(new RpcClosedError())
    const w = this.#pick()
    if (w === null) return Promise.reject(this.#workers.find((x) => x.dead !== null)?.dead ?? new RpcClosedError())
    const code = OP_CODE[op]
    const cred = a[0] as CallCredential
    const credId = this.#creds.idFor(cred, w.index, (d) => w.defs.push(d), (wi, id) => this.#workers[wi]?.drop.push(id))
    let own: Buffer | null = null
    const call: WireCall = [this.#nextCall++, code, credId]
    for (let i = 1; i < a.length; i++) {
      const v = a[i]
      const at = call.length
      if (v instanceof Uint8Array) {
        if (code === OP_WRITE && i - 1 === WRITE_DATA_ARG) {
          if (v.buffer instanceof SharedArrayBuffer) call.push(v)
          else {
            own = this.#buffers.alloc(v.byteLength)
            own.set(v)
            call.push(own)
            this.#writesCopied++
          }
        } else {
          call.push(v)
          w.packer.add(call, at, v)
        }
      } else if (code === OP_CREATE && i === 3 && (v as { verf?: unknown }).verf instanceof Uint8Array) {
        const how = { ...(v as object) } as { verf: Uint8Array }
        call.push(how)
        w.packer.add(how, 'verf', how.verf)
      } else {
        call.push(v)
      }
    }
    return new Promise<never>((resolve, reject) => {
      this.#pending.set(call[0], { resolve: resolve as (v: unknown) => void, reject, worker: w, own })
      if (this.#pending.size > this.#maxInFlight) this.#maxInFlight = this.#pending.size
      w.outstanding++
      w.calls.push(call)
      this.#dispatched++
      if (!this.#flushScheduled) {
        this.#flushScheduled = true
        setImmediate(() => this.#flush())
      }
    })
  }

  /** The live worker with the fewest outstanding calls (ties rotate), or null when none is left. */
  #pick(): Worker | null {
    const ws = this.#workers
    const n = ws.length
    let best: Worker | null = null
    for (let k = 0; k < n; k++) {
      const w = ws[(this.#next + k) % n]!
      if (w.dead !== null) continue
      if (best === null || w.outstanding < best.outstanding) best = w
    }
    if (best !== null) this.#next = (best.index + 1) % n
    return best
  }

  /** One 'calls' message per worker with anything queued this turn. */
  #flush(): void {
    this.#flushScheduled = false
    for (const w of this.#workers) {
      if (w.calls.length === 0 && w.drop.length === 0) continue
      const arena = w.packer.finish()
      const msg: ToWorker = { t: 'calls', creds: w.defs, calls: w.calls, drop: w.drop }
      w.calls = []
      w.defs = []
      w.drop = []
      if (w.dead === null) w.port.postMessage(msg, arena !== null ? [arena] : [])
    }
  }

  #onReplies(w: Worker, tape: TapeParts, err: [number, WireError][]): void {
    readTape(tape, w.ring, (id, res) => {
      const p = this.#take(id, w)
      if (p !== undefined) this.#settled(p, res, true)
    })
    for (const [id, e] of err) {
      const p = this.#take(id, w)
      if (p !== undefined) this.#settled(p, rehydrateError(e), false)
    }
  }

  #take(id: number, w: Worker): Pending | undefined {
    const p = this.#pending.get(id)
    if (p === undefined) return undefined
    this.#pending.delete(id)
    w.outstanding--
    return p
  }

  #settled(p: Pending, v: unknown, ok: boolean): void {
    if (p.own !== null) this.#buffers.release(p.own)
    if (ok) p.resolve(v)
    else p.reject(v as Error)
  }

  /** The server stopped answering on some worker's connections (false), or all answer again (true). */
  #onStatus(w: Worker, up: boolean): void {
    // Every worker reaches the same server the same way: the others' idle connections are suspect too.
    if (!up) for (const x of this.#workers) if (x !== w && x.dead === null) x.port.postMessage({ t: 'suspect' } satisfies ToWorker)
    this.#status.report(w.index, up)
  }

  /** A worker stopped on its own (it crashed): its calls fail, new calls go to the others. */
  #lost(w: Worker, err: Error): void {
    if (w.dead !== null) return
    w.dead = err
    this.#creds.forgetWorker(w.index)
    this.#onStatus(w, true)
    for (const [id, p] of this.#pending) {
      if (p.worker !== w) continue
      this.#pending.delete(id)
      this.#settled(p, err, false)
    }
    w.outstanding = 0
    w.calls = []
    w.port.close()
  }
}

/** Where the worker module is: compiled JS beside this file, or the TypeScript source under tsx. */
function workerModule(file: string | undefined): { filename: string; execArgv?: string[] } {
  const here = fileURLToPath(import.meta.url)
  const ts = here.endsWith('.ts')
  const filename = file ?? join(dirname(here), ts ? 'worker.ts' : 'worker.js')
  // Workers inherit the process's execArgv unless given one: add tsx's loader when it is missing.
  const hasTsx = process.execArgv.some((a, i) => a.includes('tsx') && (process.execArgv[i - 1] === '--import' || a.startsWith('--import')))
  return filename.endsWith('.ts') && !hasTsx ? { filename, execArgv: [...process.execArgv, '--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] } : { filename }
}


// What crosses between the pooled engine's main thread and its workers (one MessagePort each).
//
// main ──► worker   { t: 'calls', creds, calls, drop }         one message per worker per event-loop turn
//                     creds: WireCredential[]                  definitions this worker has not seen
//                     calls: [callId, op, credId, ...args][]   op = index in OPS; args as Nfs3Client takes them
//                     drop:  credential ids to forget, after the calls
//                   { t: 'hard', on }   { t: 'close' }
//                   { t: 'suspect' }   another worker found the server silent: drop connections
//                                      without a reply for a major timeout (RpcConnectionPool rule)
// worker ──► main   { t: 'ready' }   once, after the connections opened (if they did not, the task
//                   ends with a WorkerOutcome carrying the error: a port message posted just before
//                   the port closes can be lost, the task's result cannot)
//                   { t: 'replies', tape, err: [callId, WireError][] }   one per turn; results on a
//                                                              flat tape (result-tape.ts), not cloned objects
//                   { t: 'status', up }                        the server stopped / resumed answering
//
// Bytes. Small byte strings (file handles, cookie verifiers, READLINK targets, EXCLUSIVE verifiers)
// are gathered per message into one ArrayBuffer that is transferred, not cloned (structured clone
// copies a Buffer's whole backing store, which for Node's pooled small Buffers is 8 KiB per handle):
// BytePacker for the calls' arguments, the tape's `bytes` for the results.
// WRITE data lives in SharedArrayBuffer memory (Engine.allocWriteBuffer): it is shared, never copied.
// READ data is transferred: the reply record's own ArrayBuffer when it holds nothing else, else a
// copy made in the worker; the main thread then copies it once, into the FUSE buffer.
//
// Errors cross as plain fields ({ name, code, errno, message, status, proc, ... }): subclasses and
// their fields do not survive structured cloning. rehydrateError() turns them back into the
// classes the layers below throw, so callers keep switching on `code`, `errno`, `status` and
// `instanceof` alike.
import type { Nfs3Ops } from './engine.js'
import { Nfs3Error } from '../proto/nfs3/index.js'
import { RpcAcceptError, RpcClosedError, RpcConnectError, RpcDeniedError, RpcTimeoutError } from '../rpc/index.js'
import { XdrDecodeError, XdrEncodeError, type XdrDecodeReason, type XdrEncodeReason } from '../xdr/index.js'
import type { ReplyStatus } from '../xdr/types.js'
import type { WireCredential } from './credentials.js'
import type { TapeParts } from './result-tape.js'

/** The procedures a worker runs, by index. Append only: the index is the wire op code. */
export const OPS = [
  'getattr', 'setattr', 'lookup', 'access', 'readlink', 'read', 'write', 'create', 'mkdir', 'symlink',
  'mknod', 'remove', 'rmdir', 'rename', 'link', 'readdirplus', 'fsstat', 'fsinfo', 'pathconf', 'commit',
] as const satisfies readonly (keyof Nfs3Ops)[]
export type OpName = (typeof OPS)[number]
export const OP_CODE: Record<OpName, number> = Object.fromEntries(OPS.map((n, i) => [n, i])) as Record<OpName, number>
export const OP_READ = OP_CODE.read
export const OP_WRITE = OP_CODE.write
export const OP_CREATE = OP_CODE.create
/** Argument index (after the credential) of WRITE's data. */
export const WRITE_DATA_ARG = 2

export type WireCall = [callId: number, op: number, credId: number, ...args: unknown[]]

export type ToWorker =
  | { t: 'calls'; creds: WireCredential[]; calls: WireCall[]; drop: number[] }
  | { t: 'hard'; on: boolean }
  | { t: 'suspect' }
  | { t: 'close' }

/** What a worker's task resolves with: why it could not start, or nothing. */
export type WorkerOutcome = { failed: WireError } | undefined

export type FromWorker =
  | { t: 'ready' }
  | { t: 'replies'; tape: TapeParts; err: [number, WireError][] }
  | { t: 'status'; up: boolean }

/** An error as plain data: what every layer's errors carry, plus their own fields. */
export interface WireError {
  name: string
  message: string
  code?: string
  errno?: number
  [field: string]: unknown
}

/** The worker's counters, shared memory written by the worker, read by the main thread. */
export const S_CALLS = 0
export const S_REPLIES = 1
export const S_IN_FLIGHT = 2
export const S_MAX_IN_FLIGHT = 3
export const S_RETRANSMITS = 4
export const S_RECONNECTS = 5
export const S_MAJOR_TIMEOUTS = 6
/** READ replies whose record ArrayBuffer was transferred as it was (no copy anywhere). */
export const S_READS_MOVED = 7
/** READ replies copied once in the worker (the record shared its memory with other data), then transferred. */
export const S_READS_COPIED = 8
/** WRITEs whose data arrived in shared memory (no copy). */
export const S_WRITES_SHARED = 9
/** WRITEs whose data arrived cloned, not in shared memory (the main thread copies such data into shared memory first, so: never). */
export const S_WRITES_COPIED = 10
/** Messages received / sent by the worker. */
export const S_BATCHES_IN = 11
export const S_BATCHES_OUT = 12
export const S_CREDS_DEFINED = 13
export const S_BY_PROC = 16
export const BY_PROC_SLOTS = 32
export const STATS_SLOTS = S_BY_PROC + BY_PROC_SLOTS

/**
 * Collects the small byte strings of one message and moves them into one ArrayBuffer:
 * add() remembers where each goes, finish() copies them and replaces each by a view of that buffer.
 */
export class BytePacker {
  #holders: (Record<string | number, unknown>)[] = []
  #keys: (string | number)[] = []
  #total = 0

  add(holder: Record<string | number, unknown> | unknown[], key: string | number, bytes: Uint8Array): void {
    this.#holders.push(holder as Record<string | number, unknown>)
    this.#keys.push(key)
    this.#total += bytes.byteLength
  }

  /** The ArrayBuffer to transfer, or null when there was nothing to pack. */
  finish(): ArrayBuffer | null {
    const n = this.#holders.length
    if (n === 0) return null
    const arena = new Uint8Array(this.#total)
    let off = 0
    for (let i = 0; i < n; i++) {
      const holder = this.#holders[i]!
      const key = this.#keys[i]!
      const b = holder[key] as Uint8Array
      arena.set(b, off)
      holder[key] = arena.subarray(off, off + b.byteLength)
      off += b.byteLength
    }
    this.#holders = []
    this.#keys = []
    this.#total = 0
    return arena.buffer
  }
}

/** A Buffer over the same memory as `u` (what arrives is a plain Uint8Array). */
export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength)
}

/** An error as plain, cloneable data (own fields, minus objects that are not plain). */
export function errorToWire(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) }
  const out: WireError = { name: err.name, message: err.message }
  for (const [k, v] of Object.entries(err)) {
    if (v === null || ['string', 'number', 'boolean', 'bigint', 'undefined'].includes(typeof v)) out[k] = v
    else if (k === 'reply') out[k] = { ...(v as object) }
  }
  // RpcConnectError keeps the socket error as `cause`: keep what its message and errno are made of.
  const cause = (err as { cause?: unknown }).cause
  if (cause instanceof Error) {
    out.causeMessage = cause.message
    out.causeCode = (cause as NodeJS.ErrnoException).code
  }
  return out
}

/** An error of unknown kind from a worker, or a worker that stopped: keeps code and errno. */
export class EngineWorkerError extends Error {
  readonly code: string
  readonly errno: number
  constructor(message: string, code = 'ERR_ENGINE_WORKER', errno = 5) {
    super(message)
    this.name = 'EngineWorkerError'
    this.code = code
    this.errno = errno
  }
}

/** The error the worker threw, as the class it was (same code, errno, message and fields). */
export function rehydrateError(w: WireError): Error {
  const f = w as Record<string, unknown>
  let err: Error
  switch (w.code) {
    case 'ERR_NFS3_STATUS':
      err = new Nfs3Error(f.status as number, f.proc as number)
      break
    case 'ERR_RPC_TIMEOUT':
      err = new RpcTimeoutError(f.prog as number, f.proc as number, f.ms as number, f.lastDrop as string | undefined)
      break
    case 'ERR_RPC_CLOSED':
      err = new RpcClosedError()
      break
    case 'ERR_RPC_CONNECT':
      err = new RpcConnectError(f.host as string, f.port as number, Object.assign(new Error(String(f.causeMessage ?? w.message)), { code: f.causeCode as string | undefined }))
      break
    case 'ERR_RPC_DENIED':
      err = new RpcDeniedError(f.reply as ReplyStatus)
      break
    case 'ERR_RPC_ACCEPT':
      err = new RpcAcceptError(f.prog as number, f.reply as ReplyStatus)
      break
    case 'ERR_XDR_DECODE':
      err = new XdrDecodeError(f.reason as XdrDecodeReason)
      break
    case 'ERR_XDR_ENCODE':
      err = new XdrEncodeError(f.reason as XdrEncodeReason)
      break
    default: {
      const e = new EngineWorkerError(w.message, w.code ?? 'ERR_ENGINE_WORKER', typeof w.errno === 'number' && w.errno > 0 ? w.errno : 5)
      for (const [k, v] of Object.entries(w)) if (!(k in e)) (e as unknown as Record<string, unknown>)[k] = v
      e.name = w.name
      err = e
    }
  }
  err.message = w.message
  return err
}

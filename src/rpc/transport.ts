import type { RpcConnectionStats } from './connection.js'

/**
 * What the protocol clients (src/proto) send calls through: one RpcConnection, or an
 * RpcConnectionPool spreading calls over several. Both keep the same contract: many calls in
 * flight, replies matched by xid, soft/hard timeouts, reconnect-and-resend.
 */
export interface RpcTransport {
  /** A fresh xid (unique among the calls this transport has in flight). */
  nextXid(): number
  /**
   * Sends one encoded call (record mark included; an array is written back to back). Resolves
   * with the reply message (record marks stripped). Rejects with RpcTimeoutError at the major
   * timeout when soft (never when hard), RpcClosedError once close() was called.
   * `replyBytes`: how large the reply is expected to be (a READ's count), so a pool can weigh
   * calls by the bytes they bring back, not only by those they send; a single connection ignores it.
   */
  call(xid: number, prog: number, proc: number, record: Buffer | readonly Buffer[], replyBytes?: number): Promise<Buffer>
  /** True when calls retry until answered (hard) instead of failing at their major timeout (soft). */
  readonly hard: boolean
  /** Switches soft/hard for the calls in flight and those to come. */
  setHard(on: boolean): void
  /** Calls waiting for a reply now (sent or queued). */
  readonly inFlight: number
  stats(): RpcConnectionStats
  /** Fails pending calls with RpcClosedError and closes the connection(s). */
  close(): Promise<void>
}

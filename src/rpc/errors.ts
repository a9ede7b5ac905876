// Transport-level failures. Each carries a stable `code` callers switch on and the errno a
// filesystem should report for it, so the FUSE layer never has to guess.

import type { ReplyStatus } from '../xdr/types.js'

export const ETIMEDOUT = 110
export const EIO = 5
export const ECONNREFUSED = 111
export const EACCES = 13

export abstract class RpcError extends Error {
  abstract readonly code: string
  abstract readonly errno: number
}

/**
 * No reply within timeo x (retrans + 1): the soft-mount outcome. `lastDrop` says why the
 * connection was last lost while the call waited (the server closed it, a record that could not
 * be read), when it was.
 */
export class RpcTimeoutError extends RpcError {
  readonly code = 'ERR_RPC_TIMEOUT'
  readonly errno = ETIMEDOUT
  constructor(readonly prog: number, readonly proc: number, readonly ms: number, readonly lastDrop?: string) {
    super(`RPC call (program ${prog}, procedure ${proc}) timed out after ${ms} ms${lastDrop !== undefined ? ` (${lastDrop})` : ''}`)
    this.name = 'RpcTimeoutError'
  }
}

/** Could not open the TCP connection (refused, unreachable, no reserved port free). */
export class RpcConnectError extends RpcError {
  readonly code = 'ERR_RPC_CONNECT'
  readonly errno: number
  constructor(readonly host: string, readonly port: number, readonly cause: NodeJS.ErrnoException) {
    super(`cannot connect to ${host}:${port}: ${cause.code ?? cause.message}`)
    this.name = 'RpcConnectError'
    this.errno = cause.code === 'EACCES' || cause.code === 'EPERM' ? EACCES : EIO
  }
}

/** The connection was closed for good (client shut down) while the call was pending. */
export class RpcClosedError extends RpcError {
  readonly code = 'ERR_RPC_CLOSED'
  readonly errno = EIO
  constructor() {
    super('RPC connection closed')
    this.name = 'RpcClosedError'
  }
}

/** MSG_DENIED: RPC_MISMATCH or AUTH_ERROR (RFC 5531 §9). */
export class RpcDeniedError extends RpcError {
  readonly code = 'ERR_RPC_DENIED'
  readonly errno = EACCES
  constructor(readonly reply: ReplyStatus) {
    super(reply.kind === 'auth_error'
      ? `server rejected the credential (auth_stat ${reply.authStat}${AUTH_STAT_NAMES[reply.authStat] ? ' ' + AUTH_STAT_NAMES[reply.authStat] : ''})`
      : `server refused the RPC version (${reply.kind})`)
    this.name = 'RpcDeniedError'
  }
}

/** MSG_ACCEPTED with accept_stat other than SUCCESS. */
export class RpcAcceptError extends RpcError {
  readonly code = 'ERR_RPC_ACCEPT'
  readonly errno = EIO
  constructor(readonly prog: number, readonly reply: ReplyStatus) {
    super(`server did not run the call for program ${prog}: ${reply.kind}`)
    this.name = 'RpcAcceptError'
  }
}

/** RFC 5531 §9 auth_stat */
const AUTH_STAT_NAMES: Record<number, string> = {
  1: 'AUTH_BADCRED',
  2: 'AUTH_REJECTEDCRED',
  3: 'AUTH_BADVERF',
  4: 'AUTH_REJECTEDVERF',
  5: 'AUTH_TOOWEAK',
  6: 'AUTH_INVALIDRESP',
  7: 'AUTH_FAILED',
}

/** Turns a non-success reply status into the matching error. */
export function replyError(prog: number, reply: ReplyStatus): RpcError {
  return reply.kind === 'auth_error' || reply.kind === 'rpc_mismatch'
    ? new RpcDeniedError(reply)
    : new RpcAcceptError(prog, reply)
}

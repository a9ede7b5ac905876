// Errors of the XDR layer. Callers switch on `code` (stable across worker_threads, where subclasses do
// not survive structured cloning); `reason` says what was wrong in a word or two.

/** Why a reply was rejected. Each maps one negative status of the WASM core (assembly/status.ts). */
export type XdrDecodeReason =
  | 'truncated'
  | 'not-a-reply'
  | 'bad-reply-stat'
  | 'bad-accept-stat'
  | 'bad-reject-stat'
  | 'verifier-too-long'
  | 'fh-too-long'
  | 'name-too-long'
  | 'bad-bool'
  | 'too-many-flavors'
  | 'too-many-entries'
  | 'too-large'
  | 'bad-op'
  | 'data-too-long'
  | 'internal'

/** A reply that is not a well-formed RPC reply for the procedure it was decoded as. */
export class XdrDecodeError extends Error {
  override readonly name = 'XdrDecodeError'
  readonly code = 'ERR_XDR_DECODE' as const
  /** EIO: the server's bytes cannot be trusted. */
  readonly errno = 5
  readonly reason: XdrDecodeReason

  constructor(reason: XdrDecodeReason, detail?: string) {
    super(detail === undefined ? `malformed RPC reply: ${reason}` : `malformed RPC reply: ${reason} (${detail})`)
    this.reason = reason
  }
}

export type XdrEncodeReason =
  | 'fh-too-long'
  | 'name-too-long'
  | 'too-many-gids'
  | 'machine-too-long'
  | 'bad-integer'
  | 'bad-type'
  | 'bad-verifier'
  | 'too-large'
  | 'internal'

/** Call arguments that cannot be put on the wire (out of range, over an RFC bound). */
export class XdrEncodeError extends Error {
  override readonly name = 'XdrEncodeError'
  readonly code = 'ERR_XDR_ENCODE' as const
  /** ENAMETOOLONG for an over-long name or path, EINVAL for any other argument out of range. */
  readonly errno: number
  readonly reason: XdrEncodeReason

  constructor(reason: XdrEncodeReason, detail?: string) {
    super(detail === undefined ? `cannot encode RPC call: ${reason}` : `cannot encode RPC call: ${reason} (${detail})`)
    this.reason = reason
    this.errno = reason === 'name-too-long' ? 36 : 22
  }
}

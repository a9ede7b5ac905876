import type { Decoded } from '../xdr/codec.js'
import type { RpcTransport } from './transport.js'
import { replyError } from './errors.js'

/**
 * One RPC round trip: allocate an xid, encode, send, decode the reply.
 * Resolves with the procedure result; rejects with RpcTimeoutError/RpcClosedError from the
 * transport, RpcDeniedError/RpcAcceptError for non-success replies, XdrDecodeError when the
 * reply is malformed. Decoding runs synchronously on arrival, so the codec's reused scratch
 * memory is never shared between two calls. `replyBytes`: the reply size expected (see
 * RpcTransport.call).
 */
export async function invoke<T>(
  conn: RpcTransport,
  prog: number,
  proc: number,
  encode: (xid: number) => Buffer | readonly Buffer[],
  decode: (msg: Buffer) => Decoded<T>,
  replyBytes?: number,
): Promise<T> {
  const xid = conn.nextXid()
  const msg = await conn.call(xid, prog, proc, encode(xid), replyBytes)
  const d = decode(msg)
  if (d.reply.kind !== 'success') throw replyError(prog, d.reply)
  return d.res as T
}

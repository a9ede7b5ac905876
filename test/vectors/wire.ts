// Helpers for the hand-made vectors in this directory. Vectors are written field by field in hex,
// one wire field per line with a comment naming it (RFC 5531 / RFC 1833 / RFC 1813 layouts), and
// an `expected` object saying what those bytes mean. Keep these files out of any formatter: the
// one-field-per-line layout is the point.

import type { Decoded, XdrCodec } from '../../src/xdr/index.js'
import type { InboundMap } from '../../src/xdr/types.js'

/** Joins hex fields (whitespace ignored) into bytes. */
export function wire(...fields: string[]): Buffer {
  const hex = fields.join('').replace(/\s+/g, '')
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) throw new Error(`bad hex in vector: ${hex}`)
  return Buffer.from(hex, 'hex')
}

/** A call the codec must produce byte for byte. */
export interface CallVector<A> {
  name: string
  /** The whole record, record mark included. */
  wire: Buffer
  /** The arguments these bytes encode. */
  expected: A
  encode: (codec: XdrCodec, args: A) => Buffer
}

export type DecodeMethod =
  | 'decodeVoid'
  | 'decodeGetport'
  | 'decodeMnt'
  | 'decodeGetattr'
  | 'decodeSetattr'
  | 'decodeLookup'
  | 'decodeAccess'
  | 'decodeReadlink'
  | 'decodeRead'
  | 'decodeWrite'
  | 'decodeCreate'
  | 'decodeRemove'
  | 'decodeRename'
  | 'decodeLink'
  | 'decodeReaddirplus'
  | 'decodeFsstat'
  | 'decodeFsinfo'
  | 'decodePathconf'
  | 'decodeCommit'

/** A reply message (no record mark) and what it must decode to. */
export interface ReplyVector {
  name: string
  wire: Buffer
  decode: DecodeMethod
  expected: Decoded<unknown>
}

/** Calls any decode method by name (decodeVoid/Getport/Mnt take no map). */
export function decodeWith(codec: XdrCodec, method: DecodeMethod, msg: Buffer, map: InboundMap | null = null): Decoded<unknown> {
  switch (method) {
    case 'decodeVoid':
      return codec.decodeVoid(msg)
    case 'decodeGetport':
      return codec.decodeGetport(msg)
    case 'decodeMnt':
      return codec.decodeMnt(msg)
    default:
      return (codec[method] as (m: Buffer, map: InboundMap | null) => Decoded<unknown>).call(codec, msg, map)
  }
}

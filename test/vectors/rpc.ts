// RPC-level reply vectors, RFC 5531 §9: accepted replies with and without a verifier body, and every
// accept_stat / reject_stat arm the decoder reports.

import { wire, type ReplyVector } from './wire.js'

export const NULL_REPLY_WITH_VERIFIER: ReplyVector = {
  name: 'NULL reply with a 5-byte verifier body (padded to 8)',
  wire: wire(
    '00000011', // xid
    '00000001', // msg_type REPLY
    '00000000', // reply_stat MSG_ACCEPTED
    '00000001', // verf.flavor AUTH_SYS (any flavor: the body is skipped)
    '00000005', // verf.body length 5
    '0102030405000000', // verf.body 5 bytes + 3 pad
    '00000000', // accept_stat SUCCESS
  ),
  decode: 'decodeVoid',
  expected: { reply: { kind: 'success' }, res: undefined },
}

export const GETPORT_REPLY_WITH_VERIFIER: ReplyVector = {
  name: 'GETPORT reply after a 12-byte verifier',
  wire: wire(
    '00000012', // xid
    '00000001', // msg_type REPLY
    '00000000', // reply_stat MSG_ACCEPTED
    '00000006', // verf.flavor 6 (RPCSEC_GSS)
    '0000000c', // verf.body length 12
    'a1a2a3a4b1b2b3b4c1c2c3c4', // verf.body
    '00000000', // accept_stat SUCCESS
    '00000801', // port 2049
  ),
  decode: 'decodeGetport',
  expected: { reply: { kind: 'success' }, res: 2049 },
}

export const PROG_MISMATCH_REPLY: ReplyVector = {
  name: 'PROG_MISMATCH low 2 high 3',
  wire: wire(
    '00000013', // xid
    '00000001', // msg_type REPLY
    '00000000', // reply_stat MSG_ACCEPTED
    '00000000', // verf.flavor AUTH_NONE
    '00000000', // verf.body length 0
    '00000002', // accept_stat PROG_MISMATCH
    '00000002', // mismatch_info.low
    '00000003', // mismatch_info.high
  ),
  decode: 'decodeGetattr',
  expected: { reply: { kind: 'prog_mismatch', low: 2, high: 3 } },
}

export const PROG_UNAVAIL_REPLY: ReplyVector = {
  name: 'PROG_UNAVAIL',
  wire: wire(
    '00000014', // xid
    '00000001', // msg_type REPLY
    '00000000', // reply_stat MSG_ACCEPTED
    '00000000', // verf.flavor AUTH_NONE
    '00000000', // verf.body length 0
    '00000001', // accept_stat PROG_UNAVAIL
  ),
  decode: 'decodeMnt',
  expected: { reply: { kind: 'prog_unavail' } },
}

export const GARBAGE_ARGS_REPLY: ReplyVector = {
  name: 'GARBAGE_ARGS',
  wire: wire(
    '00000015', // xid
    '00000001', // msg_type REPLY
    '00000000', // reply_stat MSG_ACCEPTED
    '00000000', // verf.flavor AUTH_NONE
    '00000000', // verf.body length 0
    '00000004', // accept_stat GARBAGE_ARGS
  ),
  decode: 'decodeLookup',
  expected: { reply: { kind: 'garbage_args' } },
}

export const AUTH_ERROR_REPLY: ReplyVector = {
  name: 'MSG_DENIED AUTH_ERROR AUTH_TOOWEAK',
  wire: wire(
    '00000016', // xid
    '00000001', // msg_type REPLY
    '00000001', // reply_stat MSG_DENIED
    '00000001', // reject_stat AUTH_ERROR
    '00000005', // auth_stat AUTH_TOOWEAK
  ),
  decode: 'decodeGetattr',
  expected: { reply: { kind: 'auth_error', authStat: 5 } },
}

export const RPC_MISMATCH_REPLY: ReplyVector = {
  name: 'MSG_DENIED RPC_MISMATCH low 2 high 2',
  wire: wire(
    '00000017', // xid
    '00000001', // msg_type REPLY
    '00000001', // reply_stat MSG_DENIED
    '00000000', // reject_stat RPC_MISMATCH
    '00000002', // mismatch_info.low
    '00000002', // mismatch_info.high
  ),
  decode: 'decodeVoid',
  expected: { reply: { kind: 'rpc_mismatch', low: 2, high: 2 } },
}

export const RPC_REPLY_VECTORS: ReplyVector[] = [
  NULL_REPLY_WITH_VERIFIER,
  GETPORT_REPLY_WITH_VERIFIER,
  PROG_MISMATCH_REPLY,
  PROG_UNAVAIL_REPLY,
  GARBAGE_ARGS_REPLY,
  AUTH_ERROR_REPLY,
  RPC_MISMATCH_REPLY,
]

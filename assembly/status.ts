// Status codes the core returns instead of trapping. AssemblyScript compiles `throw` to abort (a trap
// here, since abort is disabled), so every failure is a negative i32 that src/xdr/codec.ts maps onto
// XdrDecodeError / XdrEncodeError. Keep the numbers in sync with REASONS in src/xdr/codec.ts.

export const OK: i32 = 0

// decode
export const ERR_SHORT: i32 = -1 // the message ends inside an item
export const ERR_MSG_TYPE: i32 = -2 // msg_type is not REPLY (RFC 5531 §9)
export const ERR_REPLY_STAT: i32 = -3 // reply_stat neither MSG_ACCEPTED nor MSG_DENIED
export const ERR_ACCEPT_STAT: i32 = -4 // accept_stat outside 0..5
export const ERR_REJECT_STAT: i32 = -5 // reject_stat outside 0..1
export const ERR_VERF_TOO_LONG: i32 = -6 // opaque_auth body over 400 bytes
export const ERR_FH_TOO_LONG: i32 = -7 // nfs_fh3/fhandle3 over 64 bytes
export const ERR_NAME_TOO_LONG: i32 = -8 // filename3/nfspath3 over 4096 bytes
export const ERR_BAD_BOOL: i32 = -9 // bool/optional discriminant neither 0 nor 1
export const ERR_TOO_MANY_FLAVORS: i32 = -10 // MNT auth_flavors count over 64
export const ERR_TOO_MANY_ENTRIES: i32 = -11 // cannot happen for a message that fits IN
export const ERR_INPUT_TOO_LARGE: i32 = -12 // message larger than IN
export const ERR_BAD_OP: i32 = -13 // unknown operation selector
export const ERR_DATA_TOO_LONG: i32 = -14 // READ data<> longer than what the message holds

// encode
export const ERR_ENC_FH: i32 = -32
export const ERR_ENC_NAME: i32 = -33
export const ERR_ENC_GIDS: i32 = -34
export const ERR_ENC_MACHINE: i32 = -35
export const ERR_ENC_TYPE: i32 = -36
export const ERR_ENC_TOO_LARGE: i32 = -37
export const ERR_ENC_OP: i32 = -38

// reply kinds written to R_KIND (src/xdr/types.ts ReplyStatus)
export const KIND_SUCCESS: u32 = 0
export const KIND_PROG_UNAVAIL: u32 = 1
export const KIND_PROG_MISMATCH: u32 = 2
export const KIND_PROC_UNAVAIL: u32 = 3
export const KIND_GARBAGE_ARGS: u32 = 4
export const KIND_SYSTEM_ERR: u32 = 5
export const KIND_RPC_MISMATCH: u32 = 6
export const KIND_AUTH_ERROR: u32 = 7

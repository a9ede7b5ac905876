// Word indexes of the ARG and RES tables the WASM core reads its arguments from and writes its
// results to, and the operation selectors: the TypeScript mirror of assembly/layout.ts, shared by
// XdrCodec and LockCodec (the vectors check both against the core).
export const A_XID = 0
export const A_FLAVOR = 1
export const A_STAMP = 2
export const A_UID = 3
export const A_GID = 4
export const A_NGIDS = 5
export const A_MACH_LEN = 6
export const A_PROG = 7
export const A_VERS = 8
export const A_GIDS = 9
export const A_FH1_LEN = 25
export const A_FH2_LEN = 26
export const A_NAME1_LEN = 27
export const A_NAME2_LEN = 28
export const A_U0 = 29
export const A_U1 = 30
export const A_U2 = 31
export const A_U3 = 32
export const A_OFFSET = 34 // a u64 (or f64) over two words
export const A_SIZE = 36 // a u64 (or f64) over two words
export const A_COOKIE_U64 = 38
export const A_SATTR_FLAGS = 40
export const A_MODE = 41
export const A_SUID = 42
export const A_SGID = 43
export const A_ATIME_HOW = 44 // then seconds at +1, nseconds at +2
export const A_MTIME_HOW = 47 // then seconds at +1, nseconds at +2
export const A_GUARD = 50
export const A_GUARD_S = 51
export const A_GUARD_NS = 52
export const A_SPEC1 = 53
export const A_SPEC2 = 54
export const SATTR_MODE = 1
export const SATTR_UID = 2
export const SATTR_GID = 4
export const SATTR_SIZE = 8

export const R_KIND = 0
export const R_LOW = 1
export const R_HIGH = 2
export const R_STATUS = 3
export const R_FLAGS = 4
export const R_COUNT = 5
export const R_ATTR_A = 8
export const R_ATTR_B = 30
export const R_FH_OFF = 52
export const R_FH_LEN = 53
export const R_DATA_OFF = 54
export const R_DATA_LEN = 55
export const R_U0 = 56
export const R_F0 = 68
export const R_FLAVORS = 84
export const FL_ATTR_A = 1
export const FL_ATTR_B = 2
export const FL_FH = 4
export const FL_EOF = 8
export const FL_BOOL0 = 16

export const FA_SIZE_F64 = 14
export const E_FLAGS = 0
export const E_NAME_OFF = 1
export const E_NAME_LEN = 2
export const E_FH_OFF = 3
export const E_FH_LEN = 4
export const E_COOKIE_U64 = 6
export const E_FILEID_U64 = 8
export const E_ATTR = 10

export const OP_NULL = 0
export const OP_GETPORT = 1
export const OP_MNT = 2
export const OP_UMNT = 3
export const OP_NFS = 16
export const OP_PMAP_SET = 4
export const OP_PMAP_UNSET = 5
/** An incoming call (the callback service's side) and, for encoding, an accepted reply. */
export const OP_CALL = 6
/** NLM v4 procedure P is OP_NLM + P; NSM procedure P is OP_NSM + P. */
export const OP_NLM = 64
export const OP_NSM = 96

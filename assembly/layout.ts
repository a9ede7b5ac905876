// Fixed linear-memory layout shared by the WASM core and src/xdr/codec.ts.
//
// The runtime is "stub" (never frees), so nothing here is allocated: every buffer is a fixed region at a
// fixed address, reused by every call. The TS side learns the addresses from the exported globals below
// (single source of truth) and reads results through native-endian u32/f64/u64 views.
//
//   0x000000 +----------------------+  AS static data (tiny; load() checks __heap_base <= ARG_PTR)
//   0x010000 | ARG  call arguments  |  scalar words + fh/name/machinename bytes, written by TS
//   0x020000 | OUT  encoded call    |  record mark + RPC header + args (largest call ~8.6 KiB)
//   0x030000 | RES  result words    |  reply kind, status, two fattr3 slots, scalars
//   0x040000 | IN   reply message   |  1 MiB + 64 KiB: a 1 MiB READ/READDIRPLUS plus headers
//   0x150000 | ENT  READDIRPLUS     |  128 bytes per entry, capacity IN_SIZE / 32 entries
//   0x590000 +----------------------+  = 89 pages of 64 KiB (initialMemory = maximumMemory)

export const ARG_PTR: u32 = 0x010000
export const ARG_SIZE: u32 = 0x010000
export const OUT_PTR: u32 = 0x020000
export const OUT_SIZE: u32 = 0x010000
export const RES_PTR: u32 = 0x030000
export const RES_SIZE: u32 = 0x001000
export const IN_PTR: u32 = 0x040000
/** 1 MiB of READ/READDIRPLUS payload (the largest rsize this client negotiates) plus 64 KiB of headers. */
export const IN_SIZE: u32 = 0x110000
export const ENT_PTR: u32 = 0x150000
/**
 * The smallest entryplus3 on the wire is 32 bytes (value_follows 4, fileid 8, empty name 4, cookie 8,
 * two FALSE discriminants 8), so a message that fits IN can never hold more entries than this.
 */
export const MIN_ENTRY_WIRE: u32 = 32
export const ENT_CAP: u32 = IN_SIZE / MIN_ENTRY_WIRE
export const ENT_STRIDE: u32 = 128
export const MEM_END: u32 = ENT_PTR + ENT_CAP * ENT_STRIDE

// --- ARG: u32 word indexes (byte address = ARG_PTR + 4 * index) ---
export const A_XID: u32 = 0
export const A_FLAVOR: u32 = 1
export const A_STAMP: u32 = 2
export const A_UID: u32 = 3
export const A_GID: u32 = 4
export const A_NGIDS: u32 = 5
export const A_MACH_LEN: u32 = 6
export const A_PROG: u32 = 7
export const A_VERS: u32 = 8
export const A_GIDS: u32 = 9 // 16 words: 9..24
export const A_FH1_LEN: u32 = 25
export const A_FH2_LEN: u32 = 26
export const A_NAME1_LEN: u32 = 27
export const A_NAME2_LEN: u32 = 28
/** Procedure scalars: access bits, count, stable, dircount, maxcount, data length, prot, ftype, createmode. */
export const A_U0: u32 = 29
export const A_U1: u32 = 30
export const A_U2: u32 = 31
export const A_U3: u32 = 32
/** 64-bit slots, 8-byte aligned: offsets and sizes as f64 (validated integers in TS), cookies as u64. */
export const A_OFFSET_F64: u32 = 34
export const A_SIZE_F64: u32 = 36
export const A_COOKIE_U64: u32 = 38
/** sattr3 (RFC 1813 §2.6): bit 1 mode, 2 uid, 4 gid, 8 size in A_SATTR_FLAGS. */
export const A_SATTR_FLAGS: u32 = 40
export const A_MODE: u32 = 41
export const A_SUID: u32 = 42
export const A_SGID: u32 = 43
export const A_ATIME_HOW: u32 = 44
export const A_ATIME_S: u32 = 45
export const A_ATIME_NS: u32 = 46
export const A_MTIME_HOW: u32 = 47
export const A_MTIME_S: u32 = 48
export const A_MTIME_NS: u32 = 49
export const A_GUARD: u32 = 50
export const A_GUARD_S: u32 = 51
export const A_GUARD_NS: u32 = 52
export const A_SPEC1: u32 = 53
export const A_SPEC2: u32 = 54

export const SATTR_MODE: u32 = 1
export const SATTR_UID: u32 = 2
export const SATTR_GID: u32 = 4
export const SATTR_SIZE: u32 = 8

// --- ARG: byte areas ---
export const ARG_MACH: u32 = ARG_PTR + 0x100 // machinename<255>
export const ARG_VERF: u32 = ARG_PTR + 0x200 // createverf3 / cookieverf3, 8 bytes
export const ARG_FH1: u32 = ARG_PTR + 0x240 // nfs_fh3 <= 64
export const ARG_FH2: u32 = ARG_PTR + 0x280
export const ARG_NAME1: u32 = ARG_PTR + 0x400 // filename3 / dirpath, <= 4096
export const ARG_NAME2: u32 = ARG_PTR + 0x1400 // second name / symlink target, <= 4096

// --- RES: u32 word indexes (byte address = RES_PTR + 4 * index) ---
export const R_KIND: u32 = 0
export const R_LOW: u32 = 1 // mismatch low, or auth_stat
export const R_HIGH: u32 = 2
export const R_STATUS: u32 = 3
export const R_FLAGS: u32 = 4
export const R_COUNT: u32 = 5 // READDIRPLUS entries / MNT auth flavors
export const R_ATTR_A: u32 = 8 // fattr3 slot, 22 words
export const R_ATTR_B: u32 = 30 // fattr3 slot, 22 words
export const R_FH_OFF: u32 = 52 // offsets are relative to the message start
export const R_FH_LEN: u32 = 53
export const R_DATA_OFF: u32 = 54
export const R_DATA_LEN: u32 = 55
export const R_U0: u32 = 56 // 12 u32 scalars: 56..67
export const R_F0: u32 = 68 // 8 f64/u64 slots: 68..83, 8-byte aligned
export const R_FLAVORS: u32 = 84 // 64 words

export const FL_ATTR_A: u32 = 1
export const FL_ATTR_B: u32 = 2
export const FL_FH: u32 = 4
export const FL_EOF: u32 = 8
export const FL_BOOL0: u32 = 16 // PATHCONF no_trunc, chown_restricted, case_insensitive, case_preserving
export const FL_BOOL1: u32 = 32
export const FL_BOOL2: u32 = 64
export const FL_BOOL3: u32 = 128

// --- fattr3 slot, word offsets; the 64-bit fields start at word 14 so they stay 8-byte aligned ---
export const FA_TYPE: u32 = 0
export const FA_MODE: u32 = 1
export const FA_NLINK: u32 = 2
export const FA_UID: u32 = 3
export const FA_GID: u32 = 4
export const FA_RDEV1: u32 = 5
export const FA_RDEV2: u32 = 6
export const FA_ATIME_S: u32 = 7
export const FA_ATIME_NS: u32 = 8
export const FA_MTIME_S: u32 = 9
export const FA_MTIME_NS: u32 = 10
export const FA_CTIME_S: u32 = 11
export const FA_CTIME_NS: u32 = 12
export const FA_SIZE_F64: u32 = 14
export const FA_USED_F64: u32 = 16
export const FA_FSID_F64: u32 = 18
/** The raw u64: TS reads it as an exact bigint (a file id above 2^53 must not round). */
export const FA_FILEID_U64: u32 = 20
export const FA_WORDS: u32 = 22

// --- ENT: one READDIRPLUS entry per ENT_STRIDE bytes, word offsets ---
export const E_FLAGS: u32 = 0 // FL_ATTR_A: attributes follow, FL_FH: handle follows
export const E_NAME_OFF: u32 = 1
export const E_NAME_LEN: u32 = 2
export const E_FH_OFF: u32 = 3
export const E_FH_LEN: u32 = 4
export const E_COOKIE_U64: u32 = 6
export const E_FILEID_U64: u32 = 8
export const E_ATTR: u32 = 10 // 22 words: 10..31

// --- operation selectors for encode()/decode() ---
export const OP_NULL: u32 = 0 // encode: NULL of A_PROG/A_VERS, AUTH_NONE; decode: void result
export const OP_GETPORT: u32 = 1
export const OP_MNT: u32 = 2
export const OP_UMNT: u32 = 3
export const OP_NFS: u32 = 16 // + NFSPROC3_*
export const OP_PMAP_SET: u32 = 4
export const OP_PMAP_UNSET: u32 = 5
/** decode: an RPC call message (the NLM GRANTED callback); encode: an accepted reply to it. */
export const OP_CALL: u32 = 6
export const OP_NLM: u32 = 64 // + NLMPROC4_* (up to FREE_ALL, 23)
export const OP_NSM: u32 = 96 // + SM_* (1..6)

// --- bounds (RFC 5531 §8.2, appendix A; RFC 1813 §2.4, §5.1.1) ---
export const MAX_AUTH_BYTES: u32 = 400
export const MAX_MACHINENAME: u32 = 255
export const MAX_GIDS: u32 = 16
export const FHSIZE3: u32 = 64
export const MNTPATHLEN: u32 = 1024
/** filename3/nfspath3 are unbounded in RFC 1813; 4096 (Linux PATH_MAX) is this client's bound. */
export const MAX_NAME: u32 = 4096
/** RFC 1813 §5.1 does not bound auth_flavors<>; 64 is far above the handful of flavors that exist. */
export const MAX_FLAVORS: u32 = 64

/** Reads ARG word i (native endian: TS writes it through a Uint32Array). */
@inline export function arg(i: u32): u32 {
  return load<u32>(ARG_PTR + (i << 2))
}

@inline export function argF64(i: u32): f64 {
  return load<f64>(ARG_PTR + (i << 2))
}

@inline export function argU64(i: u32): u64 {
  return load<u64>(ARG_PTR + (i << 2))
}

/** Writes RES word i. */
@inline export function res(i: u32, v: u32): void {
  store<u32>(RES_PTR + (i << 2), v)
}

@inline export function resGet(i: u32): u32 {
  return load<u32>(RES_PTR + (i << 2))
}

@inline export function resU64(i: u32, v: u64): void {
  store<u64>(RES_PTR + (i << 2), v)
}

@inline export function resF64(i: u32, v: f64): void {
  store<f64>(RES_PTR + (i << 2), v)
}

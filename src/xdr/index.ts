// Layer xdr: bytes <-> values for every ONC RPC message mapnfs exchanges (RFC 5531 RPC, RFC 1833
// portmapper, RFC 1813 MOUNT v3 and NFSv3).
//
// Purpose. One XdrCodec per thread turns call arguments into complete RPC records (record mark
// included, ready for the socket) and reply messages into the plain objects of types.ts. The work is
// done by the WASM core in assembly/ (build/xdr.wasm); this layer only moves data in and out of it.
//
// Data flow.
//   call:  args --(typed-array writes into ARG)--> encode(op) --(one copy out of OUT)--> Buffer
//   reply: msg  --(one copy into IN; READ: headers only)--> decode(...) --> RES/ENT words --> objects
// One JS->WASM call per message; no per-field calls and no generated bindings.
//
// Ownership. Encoded calls are fresh Buffers (small ones carved from Node's Buffer pool, so
// postMessage copies rather than transfers them). Decoded fh, cookieverf and READLINK targets are
// copies; ReadRes.data is a subarray of the msg handed in (zero copy), so it lives as long as the
// caller keeps msg. WRITE data never enters WASM: writeHeader() returns the header and the caller
// sends the data and xdrPadLength(data.length) zero bytes after it.
//
// Invariants. The core never traps on input: every failure is a negative status, surfaced as
// XdrDecodeError (code ERR_XDR_DECODE) or XdrEncodeError (code ERR_XDR_ENCODE). Every count and length
// is bounded before use (fh <= 64, names and READLINK targets <= 4096, verifier <= 400, auth flavors
// <= 64, READ data <= the bytes present, READDIRPLUS entries by the message length), and messages over
// 1 MiB + 64 KiB are refused. Every fattr3 returned, wherever it sits in a result, has uid/gid passed
// through the InboundMap given to decode (uid === serverUid -> localUid, gid === serverGid -> localGid).
// 64-bit values: fileids, cookies and write verifiers are exact bigints; size, used and the
// FSSTAT/FSINFO byte and file counts are numbers clamped to Number.MAX_SAFE_INTEGER above 2^53;
// fsid is a number rounded to the nearest double above 2^53 (exact below).
//
// The codec is synchronous and not re-entrant; it touches no main-thread globals, so it runs unchanged
// inside a worker_thread (each thread loads its own instance).

export { XdrCodec, xdrPadLength, type Decoded } from './codec.js'
export { XdrDecodeError, XdrEncodeError, type XdrDecodeReason, type XdrEncodeReason } from './errors.js'
export * from './constants.js'
export type * from './types.js'
export * from './lock-codec.js'

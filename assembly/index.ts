// WASM core of mapnfs: XDR encoding of every call the client sends and validating decoding of every
// reply, for ONC RPC v2 (RFC 5531), portmapper v2 (RFC 1833), MOUNT v3 and NFSv3 (RFC 1813).
//
// Data flow: src/xdr/codec.ts writes call arguments into ARG and calls encode(op) once; the record
// comes back in OUT. For a reply it copies the message into IN and calls decode(...) once; results come
// back as native-endian words in RES (and ENT for READDIRPLUS entries), byte strings as offsets into
// the message. Nothing is allocated (runtime stub), nothing traps on bad input: every failure is a
// negative status (status.ts). The fixed regions are described in layout.ts.
//
// This file only exports.

export { encode, decode } from './dispatch'
export { heapBase } from './probe'
export {
  ARG_PTR, ARG_SIZE, OUT_PTR, OUT_SIZE, RES_PTR, IN_PTR, IN_SIZE, ENT_PTR, ENT_CAP, ENT_STRIDE, MEM_END,
  ARG_MACH, ARG_VERF, ARG_FH1, ARG_FH2, ARG_NAME1, ARG_NAME2,
} from './layout'

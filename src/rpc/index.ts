// RPC transport layer: TCP record marking, an xid table with many calls in flight per
// connection, per-call timeouts with retransmission, reconnect-and-resend, reserved source
// ports. Knows the wire framing and nothing of NFS procedures; no FUSE, no main-thread state,
// so it runs unchanged inside a worker thread.
export { RpcConnection, type RpcConnectionOptions, type RpcConnectionStats } from './connection.js'
export { RecordReader, RecordError } from './record.js'
export { invoke } from './invoke.js'
export * from './errors.js'

// RPC transport layer: TCP record marking, an xid table with many calls in flight per
// connection, per-call timeouts with retransmission, reconnect-and-resend, reserved source
// ports; RpcConnectionPool spreads calls over several connections (nconnect) with caps on calls
// and bytes in flight. Both implement RpcTransport, which the protocol clients use. Knows the
// wire framing and nothing of NFS procedures; no FUSE, no main-thread state, so it runs
// unchanged inside a worker thread.
export { RpcConnection, type RpcConnectionOptions, type RpcConnectionStats } from './connection.js'
export { RpcConnectionPool, type RpcConnectionPoolOptions, DEFAULT_MAX_BYTES_IN_FLIGHT, DEFAULT_MAX_CALLS_IN_FLIGHT } from './pool.js'
export type { RpcTransport } from './transport.js'
export { ServerStatus } from './server-status.js'
export { RecordReader, RecordError, LAST_FRAGMENT } from './record.js'
export { invoke } from './invoke.js'
export { RpcServer, type RpcServerOptions } from './server.js'
export * from './errors.js'

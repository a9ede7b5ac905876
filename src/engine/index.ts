// Engine layer: where NFS calls run. `InlineEngine` runs them on the main thread; `PooledEngine`
// in piscina worker threads that own their sockets and WASM codecs, fed in batches over one
// MessagePort each (design note in pooled.ts, message format in wire.ts). Either opens `nconnect`
// connections (src/rpc RpcConnectionPool) and the FUSE front end uses both unchanged.
export type { Engine, EngineOptions, Nfs3Ops } from './engine.js'
export { InlineEngine } from './inline.js'
export { PooledEngine, MAX_WORKERS, type PooledEngineOptions, type PoolTransferStats } from './pooled.js'
export { EngineMetrics, instrumentEngine, errnoName, LATENCY_BUCKETS, PROCEDURE_NAMES, PROCEDURES, type EngineMetricsSnapshot, type ProcLatency } from './instrumented.js'

// Engine layer: where NFS calls run. `InlineEngine` runs them on the main thread over one
// pipelined connection; the interface leaves room for a worker-pool engine with several
// connections, which the front end would use unchanged.
export type { Engine, Nfs3Ops } from './engine.js'
export { InlineEngine } from './inline.js'

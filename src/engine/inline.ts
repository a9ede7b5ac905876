import { XdrCodec } from '../xdr/codec.js'
import { RpcConnectionPool, type RpcConnectionStats } from '../rpc/index.js'
import { Nfs3Client } from '../proto/nfs3/index.js'
import type { Engine, EngineOptions } from './engine.js'
import { WriteBufferPool } from './write-buffers.js'

/** Engine on the calling thread: one WASM codec, `nconnect` pipelined NFS connections. */
export class InlineEngine extends Nfs3Client implements Engine {
  readonly #buffers = new WriteBufferPool(false)

  static async open(opts: EngineOptions, codec = XdrCodec.load()): Promise<InlineEngine> {
    const { nconnect, ...rest } = opts
    const pool = await RpcConnectionPool.open({ ...rest, connections: Math.max(1, nconnect ?? 1) })
    return new InlineEngine(pool, codec)
  }

  /** Memory of its own (never a slab of Buffer's shared pool: a kept chunk would pin data others share). */
  allocWriteBuffer(length: number): Buffer {
    return this.#buffers.alloc(length)
  }

  releaseWriteBuffer(buf: Buffer): void {
    this.#buffers.release(buf)
  }

  setHard(on: boolean): void {
    this.connection.setHard(on)
  }

  stats(): RpcConnectionStats {
    return this.connection.stats()
  }

  close(): Promise<void> {
    return this.connection.close()
  }
}

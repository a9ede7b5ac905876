import { XdrCodec } from '../xdr/codec.js'
import { RpcConnection, type RpcConnectionOptions, type RpcConnectionStats } from '../rpc/index.js'
import { Nfs3Client } from '../proto/nfs3/index.js'
import type { Engine } from './engine.js'

/** Engine on the calling thread: one pipelined NFS connection, one WASM codec. */
export class InlineEngine extends Nfs3Client implements Engine {
  static async open(opts: RpcConnectionOptions, codec = XdrCodec.load()): Promise<InlineEngine> {
    const conn = await RpcConnection.open(opts)
    return new InlineEngine(conn, codec)
  }

  allocWriteBuffer(length: number): Buffer {
    // Not from Buffer's shared pool: a kept chunk must not pin a pool slab other data shares.
    return Buffer.allocUnsafeSlow(length)
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

// RpcServer: the serving half of ONC RPC over TCP (RFC 5531 §11 record marking), for the few calls
// a client receives: the NLM GRANTED callback and the status monitor's reboot callback. Each
// record is handed to `onCall` with a way to answer it on the same connection; the handler owns
// decoding (the protocol layer's codec), so this knows framing and sockets only.
import * as net from 'node:net'
import { RecordReader } from './record.js'

export interface RpcServerOptions {
  /** Address to listen on: 0.0.0.0 so a remote server can call back, 127.0.0.1 in tests. */
  host: string
  /** 0: any free port. */
  port: number
  /** Largest call accepted; a bigger record closes that connection (GRANTED calls are < 3 KiB). */
  maxRecord: number
  /** A call: MSG is its message (no record mark); REPLY writes one record back on its connection. */
  onCall: (msg: Buffer, reply: (record: Buffer) => void, from: { address: string; port: number }) => void
  /** Trouble with one connection (a torn or oversized record); the server keeps serving. */
  log: (line: string) => void
}

export class RpcServer {
  readonly #server: net.Server
  readonly #sockets = new Set<net.Socket>()
  readonly #o: RpcServerOptions

  private constructor(o: RpcServerOptions) {
    this.#o = o
    this.#server = net.createServer((s) => this.#accept(s))
  }

  /** Listens; rejects with the listen error (EADDRINUSE, EACCES). */
  static async listen(o: RpcServerOptions): Promise<RpcServer> {
    const srv = new RpcServer(o)
    await new Promise<void>((resolve, reject) => {
      srv.#server.once('error', reject)
      srv.#server.listen(o.port, o.host, () => {
        srv.#server.off('error', reject)
        resolve()
      })
    })
    srv.#server.on('error', (err) => o.log(`rpc server: ${err.message}`))
    // A callback service must not keep a daemon alive on its own.
    srv.#server.unref()
    return srv
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port
  }

  #accept(sock: net.Socket): void {
    this.#sockets.add(sock)
    sock.unref()
    sock.setNoDelay(true)
    const from = { address: sock.remoteAddress ?? '?', port: sock.remotePort ?? 0 }
    const reply = (record: Buffer): void => {
      if (!sock.destroyed) sock.write(record)
    }
    const reader = new RecordReader(this.#o.maxRecord, (msg) => {
      try {
        this.#o.onCall(msg, reply, from)
      } catch (err) {
        this.#o.log(`rpc server: call from ${from.address}:${from.port} dropped: ${(err as Error).message}`)
      }
    })
    sock.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk)
      } catch (err) {
        this.#o.log(`rpc server: connection from ${from.address}:${from.port} closed: ${(err as Error).message}`)
        sock.destroy()
      }
    })
    sock.on('error', () => undefined)
    sock.on('close', () => this.#sockets.delete(sock))
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

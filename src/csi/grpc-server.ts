// gRPC for CSI: the vendored csi.proto (src/csi/proto, CSI v1.12.0) loaded at start-up with
// proto-loader (about 0.2 s; no generated code to keep in step with the spec), services bound on a
// root-only unix socket. Every handler is an async function of the request; a thrown CsiError
// becomes its status and message, anything else INTERNAL with the error's one-line description.
import { chmodSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import type { Logger } from 'pino'
import { describeError } from '../mount/describe.js'
import { CsiError } from './errors.js'

/** Under tsx the module sits in src/csi; built, in dist/csi with the proto left in src. */
const PROTO_CANDIDATES = ['./proto/csi.proto', '../../src/csi/proto/csi.proto'].map((p) => fileURLToPath(new URL(p, import.meta.url)))

export const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }

export function csiProtoPath(): string {
  const found = PROTO_CANDIDATES.find((p) => existsSync(p))
  if (found === undefined) throw new Error(`csi.proto not found (looked at ${PROTO_CANDIDATES.join(', ')})`)
  return found
}

/** The csi.v1 package: service definitions (Identity, Node, Controller) and message types. */
export function loadCsi(): Record<string, grpc.ServiceClientConstructor> {
  const def = protoLoader.loadSync(csiProtoPath(), LOADER_OPTIONS)
  const pkg = grpc.loadPackageDefinition(def) as unknown as { csi: { v1: Record<string, grpc.ServiceClientConstructor> } }
  return pkg.csi.v1
}

/** A request as proto-loader gives it: fields by their proto names, 64-bit integers as strings. */
export type Message = Record<string, unknown>
export type Handler = (req: Message) => Promise<Message>

/** Fields of a request that may be logged: never secrets, and names and paths quoted by the logger. */
const LOGGED = ['volume_id', 'target_path', 'volume_path', 'name', 'node_id'] as const

export class CsiServer {
  readonly #server = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 })
  readonly #csi = loadCsi()

  constructor(private readonly log: Logger) {}

  /** Serves SERVICE (Identity, Node or Controller) with HANDLERS; methods left out answer UNIMPLEMENTED. */
  add(service: 'Identity' | 'Node' | 'Controller', handlers: Record<string, Handler>): void {
    const impl: grpc.UntypedServiceImplementation = {}
    for (const [method, fn] of Object.entries(handlers)) {
      impl[method] = (call: grpc.ServerUnaryCall<Message, Message>, callback: grpc.sendUnaryData<Message>) => {
        const started = Date.now()
        const fields = requestFields(call.request)
        fn(call.request).then((reply) => {
          this.log.debug({ event: 'call', call: method, ...fields, ms: Date.now() - started }, `${method} ok`)
          callback(null, reply)
        }, (err: unknown) => {
          const code = err instanceof CsiError ? err.grpcCode : grpc.status.INTERNAL
          const message = describeError(err)
          const level = code === grpc.status.INTERNAL ? 'warn' : 'info'
          this.log[level]({ event: 'refused', call: method, code: grpc.status[code], ...fields, err: message }, `${method} refused: ${message}`)
          callback({ code, details: message, metadata: new grpc.Metadata() }, null)
        })
      }
    }
    this.#server.addService(this.#csi[service]!.service, impl)
  }

  /** Binds unix:///PATH with mode 0600 (the umask is held only around the bind). */
  async listen(socketPath: string): Promise<void> {
    await withPrivateUmaskAsync(() => new Promise<void>((resolve, reject) => {
      this.#server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()))
    }))
    chmodSync(socketPath, 0o600)
  }

  /** Stops accepting calls; calls in progress finish first (forced after GRACE_MS). */
  async close(graceMs = 5000): Promise<void> {
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.#server.forceShutdown()
        resolve()
      }, graceMs)
      this.#server.tryShutdown(() => {
        clearTimeout(force)
        resolve()
      })
    })
  }
}

function requestFields(req: Message): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of LOGGED) {
    const v = req[k]
    if (typeof v === 'string' && v !== '') out[k] = v.length > 256 ? `${v.slice(0, 256)}...` : v
  }
  return out
}

/**
 * bindAsync creates the socket on a later tick: the umask must cover it, so it is held until the
 * bind's callback (nothing else in this process creates files while a daemon starts).
 */
async function withPrivateUmaskAsync<T>(fn: () => Promise<T>): Promise<T> {
  const old = process.umask(0o177)
  try {
    return await fn()
  } finally {
    process.umask(old)
  }
}

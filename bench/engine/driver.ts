// Child process: opens one of mapnfs's engines (src/engine, compiled in dist/) against an NFS
// server the way a mount does (MOUNT for the root handle, FSINFO for the sizes, then the engine's
// pipelined connection), prints {"ready":true,rsize,wsize}, and runs the loads of ./loads.ts on
// request (bench/lib/child.ts line protocol). Started by startEngine() (./start.ts).
//
//   node --import tsx bench/engine/driver.ts '{"kind":"inline",...DriverConfig}'
import type * as EngineIndex from '../../src/engine/index.js'
import type { Engine } from '../../src/engine/index.js'
import type * as IdentityIndex from '../../src/identity/index.js'
import type * as MountClient from '../../src/proto/mount/client.js'
import type { RpcConnectionOptions } from '../../src/rpc/index.js'
import type * as Codec from '../../src/xdr/codec.js'
import { importDist } from '../lib/dist.js'
import { serveRequests } from '../lib/child.js'
import * as loads from './loads.js'

export interface DriverConfig {
  kind: 'inline' | 'pooled'
  /** Worker threads of a pooled engine. */
  workers: number
  host: string
  nfsPort: number
  mountPort: number
  exportPath: string
  /** Server-side identity of every call (AUTH_SYS), shown locally as `localId` like a mapped mount. */
  uid: number
  gid: number
  localId: number
}

/** Largest READ/WRITE: src/mount/lifecycle.ts clamps to it (the WASM core's reply region holds 1 MiB). */
const MAX_IO = 1024 * 1024
/** The CLI's defaults: timeo=50 (5 s), retrans=3, reply records up to 1 MiB plus 64 KiB of headers. */
const RPC = { timeoutMs: 5000, retrans: 3, maxRecord: MAX_IO + 64 * 1024 }

const config = JSON.parse(process.argv[2] ?? '') as DriverConfig
const engineMod = await importDist<typeof EngineIndex>('engine/index.js')
const { IdentityMap } = await importDist<typeof IdentityIndex>('identity/index.js')
const { mnt } = await importDist<typeof MountClient>('proto/mount/client.js')
const { XdrCodec } = await importDist<typeof Codec>('xdr/codec.js')

/**
 * PooledEngine lands on another branch (issue 7); until then its shape is a guess: open() like
 * InlineEngine.open, with the worker count in the connection options. Adjust here if it differs.
 */
type PooledOpen = (opts: RpcConnectionOptions & { workers: number }) => Promise<Engine>

async function openEngine(opts: RpcConnectionOptions): Promise<Engine> {
  if (config.kind === 'inline') return engineMod.InlineEngine.open(opts, XdrCodec.load())
  const pooled = (engineMod as Record<string, unknown>).PooledEngine as { open?: PooledOpen } | undefined
  if (typeof pooled?.open !== 'function') throw new Error('src/engine exports no PooledEngine with a static open()')
  return pooled.open({ ...opts, workers: config.workers })
}

const identity = new IdentityMap({ kind: 'mapped', uid: config.uid, gid: config.gid, localUid: config.localId, localGid: config.localId })
const cred = identity.mountCredential()
const root = await mnt(XdrCodec.load(), { host: config.host, port: config.mountPort, reservedPort: true, ...RPC, maxRecord: 64 * 1024, reconnect: false }, cred.auth, config.exportPath)
const engine = await openEngine({ host: config.host, port: config.nfsPort, reservedPort: true, ...RPC, reconnect: true })
engine.setHard(true)
const info = await engine.fsinfo(cred, root)
const s: loads.Session = {
  engine,
  cred,
  rsize: Math.min(MAX_IO, info.rtmax ?? MAX_IO),
  wsize: Math.min(MAX_IO, info.wtmax ?? MAX_IO),
}

const dirOf = (path: string): Promise<Buffer> => loads.resolvePath(s, root, path)
const names = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`)

async function handle(m: Record<string, unknown>): Promise<Record<string, unknown>> {
  const str = (k: string): string => String(m[k])
  const num = (k: string): number => Number(m[k])
  switch (m.load) {
    case 'seqWrite':
      return { ...await loads.seqWrite(s, await dirOf(str('dir')), str('name'), num('size'), num('seconds'), num('inFlight')) }
    case 'seqRead':
      return { ...await loads.seqRead(s, await dirOf(str('path')), num('size'), num('seconds'), num('inFlight')) }
    case 'randRead':
      return { ...await loads.randRead(s, await dirOf(str('path')), num('size'), num('seconds'), num('inFlight')) }
    case 'stat':
      return { ...await loads.stat(s, await dirOf(str('dir')), names(str('prefix'), num('count')), num('seconds')) }
    case 'create':
      return { ...await loads.create(s, await dirOf(str('dir')), str('prefix'), num('count')) }
    case 'readdir':
      return { ...await loads.readdir(s, await dirOf(str('dir'))) }
    case 'ping':
      return { ...await loads.ping(s, root, num('count')) }
    default:
      throw new Error(`unknown load ${String(m.load)}`)
  }
}

const stop = (): void => {
  void engine.close().finally(() => process.exit(0))
}
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, stop)
process.stdin.on('end', stop)
serveRequests({ rsize: s.rsize, wsize: s.wsize }, handle)

// Portmapper v2, RFC 1833 §3: GETPORT (which TCP port serves (prog, vers)?) and, for the lock
// callback service, SET/UNSET on this host's own portmapper.
import type { XdrCodec } from '../../xdr/codec.js'
import { IPPROTO_TCP, PMAP_PROG, PMAPPROC_GETPORT } from '../../xdr/constants.js'
import { LockCodec } from '../../xdr/lock-codec.js'
import { ECONNREFUSED, invoke, RpcConnection } from '../../rpc/index.js'

export interface PortmapOptions {
  host: string
  /** Portmapper port, 111 unless the user says otherwise. */
  port: number
  timeoutMs: number
  retrans: number
}

/** Thrown when the portmapper answers 0: the program is not registered. */
export class PortmapError extends Error {
  readonly code = 'ERR_PMAP_UNREGISTERED'
  /** Nothing serves the program: as if the connection were refused. */
  readonly errno = ECONNREFUSED
  constructor(readonly prog: number, readonly vers: number, host: string) {
    super(`program ${prog} version ${vers} is not registered with the portmapper on ${host}`)
    this.name = 'PortmapError'
  }
}

/**
 * Resolves with the TCP port of (prog, vers). Rejects with RpcConnectError when the
 * portmapper cannot be reached, PortmapError when the program is not registered.
 */
export async function getport(codec: XdrCodec, opts: PortmapOptions, prog: number, vers: number, prot = IPPROTO_TCP): Promise<number> {
  // The portmapper does not care about the source port; never burn a reserved one on it.
  const conn = await RpcConnection.open({ ...opts, reservedPort: false, maxRecord: 4096, reconnect: false })
  try {
    const port = await invoke(conn, PMAP_PROG, PMAPPROC_GETPORT,
      (xid) => codec.pmapGetport(xid, prog, vers, prot),
      (msg) => codec.decodeGetport(msg))
    if (port === 0 || port > 65535) throw new PortmapError(prog, vers, opts.host)
    return port
  } finally {
    await conn.close()
  }
}

const PMAPPROC_SET = 1
const PMAPPROC_UNSET = 2

export const IPPROTO_UDP = 17

/**
 * SET (or, PORT null, UNSET: of every protocol) the PROT registration of (prog, vers) on the local portmapper.
 * Resolves with the portmapper's answer (false: SET of a pair registered already). Only a
 * portmapper on this host takes these (rpcbind refuses them from other hosts).
 */
export async function setport(codec: XdrCodec, opts: PortmapOptions, prog: number, vers: number, port: number | null, prot = IPPROTO_TCP): Promise<boolean> {
  const locks = new LockCodec(codec)
  const conn = await RpcConnection.open({ ...opts, reservedPort: false, maxRecord: 4096, reconnect: false })
  try {
    return await invoke(conn, PMAP_PROG, port === null ? PMAPPROC_UNSET : PMAPPROC_SET,
      (xid) => (port === null ? locks.pmapUnset(xid, prog, vers, prot) : locks.pmapSet(xid, prog, vers, prot, port)),
      (msg) => locks.decodePmapBool(msg, port === null))
  } finally {
    await conn.close()
  }
}

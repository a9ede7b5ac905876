// Portmapper v2 GETPORT, RFC 1833 §3: which TCP port serves (prog, vers)?
import type { XdrCodec } from '../../xdr/codec.js'
import { IPPROTO_TCP, PMAP_PROG, PMAPPROC_GETPORT } from '../../xdr/constants.js'
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
export async function getport(codec: XdrCodec, opts: PortmapOptions, prog: number, vers: number): Promise<number> {
  // The portmapper does not care about the source port; never burn a reserved one on it.
  const conn = await RpcConnection.open({ ...opts, reservedPort: false, maxRecord: 4096, reconnect: false })
  try {
    const port = await invoke(conn, PMAP_PROG, PMAPPROC_GETPORT,
      (xid) => codec.pmapGetport(xid, prog, vers, IPPROTO_TCP),
      (msg) => codec.decodeGetport(msg))
    if (port === 0 || port > 65535) throw new PortmapError(prog, vers, opts.host)
    return port
  } finally {
    await conn.close()
  }
}

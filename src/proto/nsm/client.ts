// NSM (status monitor, program 100024 version 1): the one call a client host makes to a server's
// rpc.statd itself. SM_NOTIFY says "this host rebooted and is now at STATE": the server's statd
// tells its lock manager, which drops every lock the host held before (those taken with another
// state number).
import type { XdrCodec } from '../../xdr/codec.js'
import { LockCodec, SM_PROG, SM_NOTIFY, SM_VERS } from '../../xdr/lock-codec.js'
import { invoke, RpcConnection } from '../../rpc/index.js'
import { getport, type PortmapOptions } from '../portmap/client.js'

/**
 * Sends SM_NOTIFY to the statd on OPTS.host (found through its portmapper) for this host, once
 * under each of NAMES and once under the address the server sees this host at (statd monitors a
 * client by whichever its lock manager registered). Resolves with the names sent; rejects with
 * the transport or portmapper error.
 */
export async function notifyReboot(codec: XdrCodec, opts: PortmapOptions, names: readonly string[], state: number): Promise<string[]> {
  const port = await getport(codec, opts, SM_PROG, SM_VERS)
  const locks = new LockCodec(codec)
  const conn = await RpcConnection.open({ ...opts, port, reservedPort: false, maxRecord: 4096, reconnect: false })
  try {
    const sent = [...new Set([...names, conn.localAddress ?? ''].filter((n) => n !== ''))]
    for (const name of sent) {
      await invoke(conn, SM_PROG, SM_NOTIFY, (xid) => locks.smNotify(xid, name, state), (m) => locks.decodeVoid(m, 'sm_notify'))
    }
    return sent
  } finally {
    await conn.close()
  }
}

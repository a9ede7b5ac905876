// MOUNT v3, RFC 1813 §5: turns an export path into the root file handle.
import type { XdrCodec } from '../../xdr/codec.js'
import type { AuthSys } from '../../xdr/types.js'
import {
  AUTH_SYS, MNT3_OK, MNT3ERR_ACCES, MNT3ERR_INVAL, MNT3ERR_IO, MNT3ERR_NAMETOOLONG, MNT3ERR_NOENT,
  MNT3ERR_NOTDIR, MNT3ERR_NOTSUPP, MNT3ERR_PERM, MNT3ERR_SERVERFAULT, MOUNT_PROG, MOUNTPROC3_MNT, MOUNTPROC3_UMNT,
} from '../../xdr/constants.js'
import { invoke, RpcConnection, type RpcConnectionOptions } from '../../rpc/index.js'

const MOUNTSTAT3_TEXT: Record<number, [string, number]> = {
  [MNT3ERR_PERM]: ['MNT3ERR_PERM: not owner', 1],
  [MNT3ERR_NOENT]: ['MNT3ERR_NOENT: no such export', 2],
  [MNT3ERR_IO]: ['MNT3ERR_IO: I/O error', 5],
  [MNT3ERR_ACCES]: ['MNT3ERR_ACCES: permission denied (no such export, this client is not admitted, or a reserved source port is required)', 13],
  [MNT3ERR_NOTDIR]: ['MNT3ERR_NOTDIR: export is not a directory', 20],
  [MNT3ERR_INVAL]: ['MNT3ERR_INVAL: invalid argument', 22],
  [MNT3ERR_NAMETOOLONG]: ['MNT3ERR_NAMETOOLONG: export path too long', 36],
  [MNT3ERR_NOTSUPP]: ['MNT3ERR_NOTSUPP: operation not supported', 95],
  [MNT3ERR_SERVERFAULT]: ['MNT3ERR_SERVERFAULT: server fault', 5],
}

/** A MOUNT reply with mountstat3 other than MNT3_OK, or an export that does not offer AUTH_SYS. */
export class MountError extends Error {
  readonly code = 'ERR_MOUNT3_STATUS'
  readonly errno: number
  constructor(readonly status: number, readonly export_: string, detail?: string) {
    const [text, errno] = MOUNTSTAT3_TEXT[status] ?? [`mountstat3 ${status}`, 5]
    super(`mount of ${export_} refused: ${detail ?? text}`)
    this.name = 'MountError'
    this.errno = errno
  }
}

export type MountConnectOptions = RpcConnectionOptions

/**
 * MNT: resolves with the root file handle. Rejects with MountError for a refused mount or an
 * export without AUTH_SYS among its flavors, with transport errors otherwise.
 */
export async function mnt(codec: XdrCodec, opts: MountConnectOptions, cred: AuthSys, dirpath: string): Promise<Buffer> {
  const conn = await RpcConnection.open({ ...opts, reconnect: false })
  try {
    const res = await invoke(conn, MOUNT_PROG, MOUNTPROC3_MNT, (xid) => codec.mntMnt(xid, cred, dirpath), (msg) => codec.decodeMnt(msg))
    if (res.status !== MNT3_OK) throw new MountError(res.status, dirpath)
    const flavors = res.authFlavors ?? []
    // An empty list means the server did not say; RFC 1813 §5.2.1 lets us try AUTH_SYS then.
    if (flavors.length > 0 && !flavors.includes(AUTH_SYS)) {
      throw new MountError(MNT3ERR_ACCES, dirpath, `export does not offer AUTH_SYS (offers ${flavors.join(', ')})`)
    }
    return res.fh!
  } finally {
    await conn.close()
  }
}

/** UMNT: tells the server the export is no longer mounted. Best effort; resolves either way. */
export async function umnt(codec: XdrCodec, opts: MountConnectOptions, cred: AuthSys, dirpath: string): Promise<void> {
  let conn: RpcConnection | null = null
  try {
    conn = await RpcConnection.open({ ...opts, reconnect: false, retrans: 0 })
    await invoke(conn, MOUNT_PROG, MOUNTPROC3_UMNT, (xid) => codec.mntUmnt(xid, cred, dirpath), (msg) => codec.decodeVoid(msg))
  } catch {
    // The server forgets mounts on restart anyway; an unreachable server must not block unmount.
  } finally {
    await conn?.close()
  }
}

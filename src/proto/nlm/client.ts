// NLM v4 client (XNFS, program 100021 version 4): the lock calls of an NFSv3 mount, on one
// connection of their own to the server's lock manager. Every call carries the caller's AUTH_SYS
// credential (the mount's mapped identity), so the server sees who holds what.
//
// Blocking LOCKs are answered BLOCKED at once; the grant comes later as a GRANTED_MSG call to the
// client's callback service, which owes the server a GRANTED_RES (grantedRes). The connection
// reconnects by itself; `onDrop` tells the owner when the server closed it (a restart: the
// server's locks are gone and must be reclaimed in its grace period).
import type { XdrCodec } from '../../xdr/codec.js'
import {
  LockCodec, NLM_PROG, NLMPROC4_CANCEL, NLMPROC4_GRANTED_RES, NLMPROC4_LOCK, NLMPROC4_TEST, NLMPROC4_UNLOCK,
  type NlmLock, type NlmRes, type NlmTestRes,
} from '../../xdr/lock-codec.js'
import type { AuthSys } from '../../xdr/types.js'
import { invoke, RpcConnection } from '../../rpc/index.js'
import { randomBytes } from 'node:crypto'

export interface NlmClientOptions {
  host: string
  port: number
  reservedPort: boolean
  timeoutMs: number
  retrans: number
  onDrop?: () => void
}

export interface LockHow {
  block: boolean
  exclusive: boolean
  reclaim: boolean
}

/** NLM calls and results are small: a GRANTED_MSG or TEST reply with a 1 KiB owner handle fits. */
const MAX_RECORD = 8192

export class NlmClient {
  readonly #conn: RpcConnection
  readonly #codec: LockCodec
  #cookie = randomBytes(4).readUInt32BE(0)

  private constructor(conn: RpcConnection, codec: LockCodec) {
    this.#conn = conn
    this.#codec = codec
  }

  /** Connects; rejects with RpcConnectError when the lock manager cannot be reached. */
  static async open(codec: XdrCodec, o: NlmClientOptions): Promise<NlmClient> {
    const conn = await RpcConnection.open({
      host: o.host, port: o.port, reservedPort: o.reservedPort, timeoutMs: o.timeoutMs, retrans: o.retrans,
      maxRecord: MAX_RECORD, reconnect: true, ...(o.onDrop ? { onDrop: o.onDrop } : {}),
    })
    return new NlmClient(conn, new LockCodec(codec))
  }

  /** A fresh cookie per call: servers echo it, and a GRANTED_RES must carry the grant's own. */
  #nextCookie(): Buffer {
    const b = Buffer.alloc(4)
    this.#cookie = (this.#cookie + 1) >>> 0
    b.writeUInt32BE(this.#cookie)
    return b
  }

  test(cred: AuthSys, exclusive: boolean, lock: NlmLock): Promise<NlmTestRes> {
    const c = this.#codec
    return invoke(this.#conn, NLM_PROG, NLMPROC4_TEST, (xid) => c.nlmTest(xid, cred, this.#nextCookie(), exclusive, lock), (m) => c.decodeNlmTest(m))
  }

  /** STATE: this client's NSM state (the server keeps only locks whose state matches on a reboot notice). */
  lock(cred: AuthSys, how: LockHow, lock: NlmLock, state: number): Promise<NlmRes> {
    const c = this.#codec
    return invoke(this.#conn, NLM_PROG, NLMPROC4_LOCK, (xid) => c.nlmLock(xid, cred, this.#nextCookie(), how, lock, state), (m) => c.decodeNlmRes(m, NLMPROC4_LOCK))
  }

  cancel(cred: AuthSys, exclusive: boolean, lock: NlmLock): Promise<NlmRes> {
    const c = this.#codec
    return invoke(this.#conn, NLM_PROG, NLMPROC4_CANCEL, (xid) => c.nlmCancel(xid, cred, this.#nextCookie(), true, exclusive, lock), (m) => c.decodeNlmRes(m, NLMPROC4_CANCEL))
  }

  unlock(cred: AuthSys, lock: NlmLock): Promise<NlmRes> {
    const c = this.#codec
    return invoke(this.#conn, NLM_PROG, NLMPROC4_UNLOCK, (xid) => c.nlmUnlock(xid, cred, this.#nextCookie(), lock), (m) => c.decodeNlmRes(m, NLMPROC4_UNLOCK))
  }

  /** Tells the server what became of its GRANTED_MSG (COOKIE is the grant's). */
  grantedRes(cred: AuthSys, cookie: Buffer, stat: number): Promise<void> {
    const c = this.#codec
    return invoke(this.#conn, NLM_PROG, NLMPROC4_GRANTED_RES, (xid) => c.nlmGrantedRes(xid, cred, cookie, stat), (m) => c.decodeVoid(m, 'granted_res'))
  }

  close(): Promise<void> {
    return this.#conn.close()
  }
}

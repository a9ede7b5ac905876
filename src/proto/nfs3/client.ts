// NFSv3 procedures (RFC 1813 §3.3) over an RpcTransport (one connection, or a pool of them).
//
// Each method resolves with the NFS3_OK result and rejects with Nfs3Error for any other
// nfsstat3 (NFS3ERR_JUKEBOX is first retried with backoff, RFC 1813 §3: "the server is
// temporarily unable"), or with the transport's errors. The credential travels with each call.
import type { XdrCodec, Decoded } from '../../xdr/codec.js'
import type {
  AccessRes, CommitRes, CreateHow3, CreateRes, FsinfoRes, FsstatRes, GetattrRes, LinkRes, LookupRes,
  NfsTime3, PathconfRes, ReaddirplusRes, ReadlinkRes, ReadRes, RemoveRes, RenameRes, Sattr3, SetattrRes, WriteRes,
} from '../../xdr/types.js'
import {
  NFS3_OK, NFS3ERR_JUKEBOX, NFS_PROG, NFSPROC3_ACCESS, NFSPROC3_COMMIT, NFSPROC3_CREATE, NFSPROC3_FSINFO,
  NFSPROC3_FSSTAT, NFSPROC3_GETATTR, NFSPROC3_LINK, NFSPROC3_LOOKUP, NFSPROC3_MKDIR, NFSPROC3_MKNOD, NFSPROC3_NULL,
  NFSPROC3_PATHCONF, NFSPROC3_READ, NFSPROC3_READDIRPLUS, NFSPROC3_READLINK, NFSPROC3_REMOVE, NFSPROC3_RENAME,
  NFSPROC3_RMDIR, NFSPROC3_SETATTR, NFSPROC3_SYMLINK, NFSPROC3_WRITE, NFS_V3,
} from '../../xdr/constants.js'
import { invoke, type RpcTransport } from '../../rpc/index.js'
import { Nfs3Error } from './errors.js'
import type { CallCredential } from './types.js'

/** Bytes of a READ reply besides the data: RPC header, verifier, post_op_attr, count, eof (at most 532). */
const READ_REPLY_OVERHEAD = 532

/** JUKEBOX backoff: 100 ms doubling to 2 s, about 30 s in all before EAGAIN (soft; hard retries on). */
const JUKEBOX_FIRST_MS = 100
const JUKEBOX_MAX_MS = 2000
const JUKEBOX_TRIES = 20

const ZERO_PAD = [Buffer.alloc(0), Buffer.alloc(1), Buffer.alloc(2), Buffer.alloc(3)] as const

type Ok<T> = T & { status: typeof NFS3_OK }

export class Nfs3Client {
  readonly #conn: RpcTransport
  readonly #codec: XdrCodec

  constructor(conn: RpcTransport, codec: XdrCodec) {
    this.#conn = conn
    this.#codec = codec
  }

  get connection(): RpcTransport {
    return this.#conn
  }

  async #call<T extends { status: number }>(
    proc: number,
    encode: (xid: number) => Buffer | readonly Buffer[],
    decode: (msg: Buffer) => Decoded<T>,
    replyBytes?: number,
  ): Promise<Ok<T>> {
    let delay = JUKEBOX_FIRST_MS
    for (let attempt = 0; ; attempt++) {
      const res = await invoke(this.#conn, NFS_PROG, proc, encode, decode, replyBytes)
      if (res.status === NFS3_OK) return res as Ok<T>
      if (res.status !== NFS3ERR_JUKEBOX || (attempt >= JUKEBOX_TRIES && !this.#conn.hard)) throw new Nfs3Error(res.status, proc)
      await new Promise((r) => setTimeout(r, delay))
      delay = Math.min(delay * 2, JUKEBOX_MAX_MS)
    }
  }

  async null(): Promise<void> {
    const c = this.#codec
    await invoke(this.#conn, NFS_PROG, NFSPROC3_NULL, (xid) => c.rpcNull(xid, NFS_PROG, NFS_V3), (m) => c.decodeVoid(m))
  }

  getattr(cred: CallCredential, fh: Buffer): Promise<Ok<GetattrRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_GETATTR, (x) => c.getattr(x, cred.auth, fh), (m) => c.decodeGetattr(m, cred.map))
  }

  setattr(cred: CallCredential, fh: Buffer, attrs: Sattr3, guardCtime?: NfsTime3): Promise<Ok<SetattrRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_SETATTR, (x) => c.setattr(x, cred.auth, fh, attrs, guardCtime), (m) => c.decodeSetattr(m, cred.map))
  }

  lookup(cred: CallCredential, dir: Buffer, name: string): Promise<Ok<LookupRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_LOOKUP, (x) => c.lookup(x, cred.auth, dir, name), (m) => c.decodeLookup(m, cred.map))
  }

  access(cred: CallCredential, fh: Buffer, access: number): Promise<Ok<AccessRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_ACCESS, (x) => c.access(x, cred.auth, fh, access), (m) => c.decodeAccess(m, cred.map))
  }

  readlink(cred: CallCredential, fh: Buffer): Promise<Ok<ReadlinkRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_READLINK, (x) => c.readlink(x, cred.auth, fh), (m) => c.decodeReadlink(m, cred.map))
  }

  /** One READ; the server may return fewer bytes than asked (callers loop). */
  read(cred: CallCredential, fh: Buffer, offset: number, count: number): Promise<Ok<ReadRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_READ, (x) => c.read(x, cred.auth, fh, offset, count), (m) => c.decodeRead(m, cred.map), count + READ_REPLY_OVERHEAD)
  }

  /** One WRITE of all of `data`; the reply count may be short (callers resend the rest). */
  write(cred: CallCredential, fh: Buffer, offset: number, data: Buffer, stable: number): Promise<Ok<WriteRes>> {
    const c = this.#codec
    const pad = ZERO_PAD[(4 - (data.length & 3)) & 3]!
    return this.#call(NFSPROC3_WRITE, (x) => {
      const head = c.writeHeader(x, cred.auth, fh, offset, data.length, stable, data.length)
      return pad.length === 0 ? [head, data] : [head, data, pad]
    }, (m) => c.decodeWrite(m, cred.map))
  }

  create(cred: CallCredential, dir: Buffer, name: string, how: CreateHow3): Promise<Ok<CreateRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_CREATE, (x) => c.create(x, cred.auth, dir, name, how), (m) => c.decodeCreate(m, cred.map))
  }

  mkdir(cred: CallCredential, dir: Buffer, name: string, attrs: Sattr3): Promise<Ok<CreateRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_MKDIR, (x) => c.mkdir(x, cred.auth, dir, name, attrs), (m) => c.decodeCreate(m, cred.map))
  }

  symlink(cred: CallCredential, dir: Buffer, name: string, attrs: Sattr3, target: string): Promise<Ok<CreateRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_SYMLINK, (x) => c.symlink(x, cred.auth, dir, name, attrs, target), (m) => c.decodeCreate(m, cred.map))
  }

  mknod(cred: CallCredential, dir: Buffer, name: string, type: number, attrs: Sattr3, spec?: { major: number; minor: number }): Promise<Ok<CreateRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_MKNOD, (x) => c.mknod(x, cred.auth, dir, name, type, attrs, spec), (m) => c.decodeCreate(m, cred.map))
  }

  remove(cred: CallCredential, dir: Buffer, name: string): Promise<Ok<RemoveRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_REMOVE, (x) => c.remove(x, cred.auth, dir, name), (m) => c.decodeRemove(m, cred.map))
  }

  rmdir(cred: CallCredential, dir: Buffer, name: string): Promise<Ok<RemoveRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_RMDIR, (x) => c.rmdir(x, cred.auth, dir, name), (m) => c.decodeRemove(m, cred.map))
  }

  rename(cred: CallCredential, fromDir: Buffer, fromName: string, toDir: Buffer, toName: string): Promise<Ok<RenameRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_RENAME, (x) => c.rename(x, cred.auth, fromDir, fromName, toDir, toName), (m) => c.decodeRename(m, cred.map))
  }

  link(cred: CallCredential, fh: Buffer, dir: Buffer, name: string): Promise<Ok<LinkRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_LINK, (x) => c.link(x, cred.auth, fh, dir, name), (m) => c.decodeLink(m, cred.map))
  }

  readdirplus(cred: CallCredential, dir: Buffer, cookie: bigint, cookieverf: Buffer, dircount: number, maxcount: number): Promise<Ok<ReaddirplusRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_READDIRPLUS, (x) => c.readdirplus(x, cred.auth, dir, cookie, cookieverf, dircount, maxcount), (m) => c.decodeReaddirplus(m, cred.map))
  }

  fsstat(cred: CallCredential, fh: Buffer): Promise<Ok<FsstatRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_FSSTAT, (x) => c.fsstat(x, cred.auth, fh), (m) => c.decodeFsstat(m, cred.map))
  }

  fsinfo(cred: CallCredential, fh: Buffer): Promise<Ok<FsinfoRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_FSINFO, (x) => c.fsinfo(x, cred.auth, fh), (m) => c.decodeFsinfo(m, cred.map))
  }

  pathconf(cred: CallCredential, fh: Buffer): Promise<Ok<PathconfRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_PATHCONF, (x) => c.pathconf(x, cred.auth, fh), (m) => c.decodePathconf(m, cred.map))
  }

  commit(cred: CallCredential, fh: Buffer, offset: number, count: number): Promise<Ok<CommitRes>> {
    const c = this.#codec
    return this.#call(NFSPROC3_COMMIT, (x) => c.commit(x, cred.auth, fh, offset, count), (m) => c.decodeCommit(m, cred.map))
  }
}


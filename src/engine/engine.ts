import type { Nfs3Client } from '../proto/nfs3/index.js'
import type { RpcConnectionOptions, RpcConnectionStats } from '../rpc/index.js'

/** The NFSv3 procedures the filesystem uses, each taking the call's credential. */
export type Nfs3Ops = Pick<Nfs3Client,
  | 'getattr' | 'setattr' | 'lookup' | 'access' | 'readlink' | 'read' | 'write' | 'create' | 'mkdir'
  | 'symlink' | 'mknod' | 'remove' | 'rmdir' | 'rename' | 'link' | 'readdirplus' | 'fsstat' | 'fsinfo'
  | 'pathconf' | 'commit'>

/** How an engine reaches the NFS server. */
export interface EngineOptions extends RpcConnectionOptions {
  /** Connections per engine, or per worker of a pooled engine (nconnect). Default 1. */
  nconnect?: number
  /** Calls in flight before calls queue, for the whole engine (default: rpc DEFAULT_MAX_CALLS_IN_FLIGHT). */
  maxCallsInFlight?: number
  /** Bytes in flight (sent + expected back) before calls queue, for the whole engine (default: rpc DEFAULT_MAX_BYTES_IN_FLIGHT). */
  maxBytesInFlight?: number
}

/**
 * What the FUSE front end talks to. The inline engine runs the protocol on the main thread;
 * the pooled engine runs it in worker threads that own their sockets, and the front end does not
 * notice. Every method's promise settles within the RPC layer's major timeout when soft; when
 * hard, once the server answers or close() is called.
 */
export interface Engine extends Nfs3Ops {
  /**
   * A buffer for WRITE data that this engine can send without another copy (a pooled engine's
   * workers share its memory). The caller fills it and may keep it until the data is committed.
   */
  allocWriteBuffer(length: number): Buffer
  /**
   * The caller is done with a buffer from allocWriteBuffer: no call uses it any more and none
   * will. The engine may hand its memory out again (fresh memory costs page faults on first
   * touch). Optional: a buffer never released is garbage collected like any other.
   */
  releaseWriteBuffer(buf: Buffer): void
  /** Soft (calls fail at their major timeout) or hard (calls retry until answered or close()). */
  setHard(on: boolean): void
  /** Transport counters summed over the engine's connections. */
  stats(): RpcConnectionStats
  /** Fails outstanding calls and closes the connections. */
  close(): Promise<void>
}

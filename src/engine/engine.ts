import type { Nfs3Client } from '../proto/nfs3/index.js'
import type { RpcConnectionStats } from '../rpc/index.js'

/** The NFSv3 procedures the filesystem uses, each taking the call's credential. */
export type Nfs3Ops = Pick<Nfs3Client,
  | 'getattr' | 'setattr' | 'lookup' | 'access' | 'readlink' | 'read' | 'write' | 'create' | 'mkdir'
  | 'symlink' | 'mknod' | 'remove' | 'rmdir' | 'rename' | 'link' | 'readdirplus' | 'fsstat' | 'fsinfo'
  | 'pathconf' | 'commit'>

/**
 * What the FUSE front end talks to. The inline engine runs the protocol on the main thread;
 * a pooled engine (worker threads owning their sockets) can stand in without the front end
 * noticing. Every method's promise settles within the RPC layer's major timeout when soft; when
 * hard, once the server answers or close() is called.
 */
export interface Engine extends Nfs3Ops {
  /**
   * A buffer for WRITE data that this engine can send without another copy (a pooled engine's
   * workers share its memory). The caller fills it and may keep it until the data is committed.
   */
  allocWriteBuffer(length: number): Buffer
  /** Soft (calls fail at their major timeout) or hard (calls retry until answered or close()). */
  setHard(on: boolean): void
  /** Transport counters summed over the engine's connections. */
  stats(): RpcConnectionStats
  /** Fails outstanding calls and closes the connections. */
  close(): Promise<void>
}

// KernelNotifier over /dev/fuse: FUSE_NOTIFY_INVAL_INODE and FUSE_NOTIFY_INVAL_ENTRY messages,
// written unasked (out_header.unique 0, out_header.error = the notify code).
//
// Deadlock hazard, and why these never block the event loop: the kernel handles a notification
// inside our write(2). INVAL_ENTRY takes the parent directory's inode lock, INVAL_INODE locks the
// page-cache pages it drops. A request in flight may hold exactly those (a READDIRPLUS holds the
// directory lock shared until we answer it; a READ keeps its pages locked until we answer it), so a
// write from the thread that must answer that request never returns. libfuse documents the rule
// for fuse_lowlevel_notify_inval_entry: not from the execution path of a related operation (as of
// kernel 4.18: lookup, symlink, mknod, mkdir, unlink, rename, link or create on the parent; setattr,
// unlink, rmdir, rename, readdir or readdirplus on the inode itself), and a lock we hold is not
// needed for that either. A dropped dentry can also make the kernel queue a FORGET it then waits
// to hand over. A single-threaded daemon cannot tell from inside a handler which of these a write
// would wait for, so the device (device.ts) writes every notification from libuv's threadpool,
// one at a time, in order: the event loop keeps answering, the lock is let go, the write completes.
// Calling invalEntry() from inside a request handler (nfs-nodes.ts does, in readdirplus) is
// therefore safe; the message reaches the kernel after that handler's reply at the earliest.
import type { KernelNotifier } from '../node-operations.js'
import { putI64, putU64, writeOutHeader } from './codec.js'
import { FUSE_NOTIFY_INVAL_ENTRY, FUSE_NOTIFY_INVAL_INODE, NOTIFY_INVAL_ENTRY_OUT_SIZE, NOTIFY_INVAL_INODE_OUT_SIZE, OUT_HEADER_SIZE } from './abi.js'

const NAME_MAX = 255

/** FUSE_NOTIFY_INVAL_INODE: NODEID's attributes, and its cached data from OFFSET for LENGTH bytes (0: to the end; OFFSET -1: none). */
export function encodeInvalInode(nodeid: number, offset: number, length: number): Buffer {
  const len = OUT_HEADER_SIZE + NOTIFY_INVAL_INODE_OUT_SIZE
  const buf = Buffer.alloc(len)
  const dv = new DataView(buf.buffer, buf.byteOffset, len)
  writeOutHeader(dv, len, FUSE_NOTIFY_INVAL_INODE, 0, 0)
  putU64(dv, OUT_HEADER_SIZE, nodeid)
  putI64(dv, OUT_HEADER_SIZE + 8, offset)
  putI64(dv, OUT_HEADER_SIZE + 16, length)
  return buf
}

/** FUSE_NOTIFY_INVAL_ENTRY: NAME in directory PARENT; undefined for a name the kernel could not hold. */
export function encodeInvalEntry(parent: number, name: string): Buffer | undefined {
  const nl = Buffer.byteLength(name)
  if (nl === 0 || nl > NAME_MAX) return undefined
  // The kernel checks len == header + struct + namelen + 1 (the NUL).
  const len = OUT_HEADER_SIZE + NOTIFY_INVAL_ENTRY_OUT_SIZE + nl + 1
  const buf = Buffer.alloc(len)
  const dv = new DataView(buf.buffer, buf.byteOffset, len)
  writeOutHeader(dv, len, FUSE_NOTIFY_INVAL_ENTRY, 0, 0)
  putU64(dv, OUT_HEADER_SIZE, parent)
  dv.setUint32(OUT_HEADER_SIZE + 8, nl, true)
  dv.setUint32(OUT_HEADER_SIZE + 12, 0, true) // flags: FUSE_EXPIRE_ONLY needs 7.38's flags2 HAS_EXPIRE_ONLY, not asked for
  buf.write(name, OUT_HEADER_SIZE + NOTIFY_INVAL_ENTRY_OUT_SIZE, nl, 'utf8')
  return buf
}

/** Hands each message to SEND (the device's queued, off-loop write). */
export class DeviceNotifier implements KernelNotifier {
  constructor(readonly send: (message: Buffer) => void) {}

  invalInode(nodeid: number, offset: number, length: number): void {
    this.send(encodeInvalInode(nodeid, offset, length))
  }

  invalEntry(parent: number, name: string): void {
    const m = encodeInvalEntry(parent, name)
    if (m !== undefined) this.send(m)
  }
}

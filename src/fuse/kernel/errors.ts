// Errors of the kernel-protocol front end. Each carries a stable `code` and a positive `errno`
// (style §4), so toErrno() (../errno.ts) maps one that reaches a request without a log line.

export type KernelFuseErrorCode =
  /** /dev/fuse cannot be opened or watched (no FUSE module, no pipe_wrap binding in this Node). */
  | 'ERR_FUSE_DEVICE'
  /** mount(8) refused the mount; the message is its first stderr line. */
  | 'ERR_FUSE_MOUNT'
  /** umount(8) failed and the mount is still there. */
  | 'ERR_FUSE_UNMOUNT'
  /** The kernel ended the connection before INIT was answered, or spoke another major version. */
  | 'ERR_FUSE_PROTOCOL'
  /** A request too short for its opcode, or with a name that is not NUL-terminated. */
  | 'ERR_FUSE_REQUEST'

export class KernelFuseError extends Error {
  constructor(readonly code: KernelFuseErrorCode, readonly errno: number, message: string) {
    super(message)
    this.name = 'KernelFuseError'
  }
}

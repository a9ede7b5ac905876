// FUSE front end: libfuse requests (paths, fds) become NFSv3 calls through the Engine, with
// the identity of each request's caller. adapter.ts alone touches fuse-native.
export { FuseMount, patchedBindingAvailable, type FuseMountOptions } from './adapter.js'
export { NfsFilesystem, type FilesystemOptions, type FilesystemStats } from './filesystem.js'
export type { FuseOperations, FuseStatfs, TimeArg } from './operations.js'
export { toErrno, FsError } from './errno.js'

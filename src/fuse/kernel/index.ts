// The kernel-protocol FUSE front end: mapnfs speaks the FUSE protocol over /dev/fuse itself,
// without libfuse or fuse-native, and serves a NodeOperations (../node-operations.ts).
//
//   mount.ts    KernelMount: open /dev/fuse, mount(8) with the fd, serve, unmount, `closed`
//   device.ts   the fd read by the main thread's epoll (pipe_wrap) into one buffer; one write per reply
//   session.ts  INIT negotiation; decode each request, call the filesystem, encode one reply
//   codec.ts    struct encoders/decoders; the READDIR(PLUS) sink
//   notifier.ts FUSE_NOTIFY_INVAL_* written off the event loop (the kernel may block on them)
//   abi.ts      fuse.h 7.38: opcodes, flags, struct sizes
//
// Ownership: one process serves one mount from its main thread; the read buffer belongs to the
// device and is valid only during handle(); every other buffer belongs to the request it answers.
// Invariant: each request but FORGET/BATCH_FORGET/INTERRUPT gets exactly one reply, and every node
// the kernel was given (entry replies, READDIRPLUS entries) is counted once by the filesystem.
export { KernelMount, sanitizeFsname, type KernelMountOptions } from './mount.js'
export { Session, SESSION_DEFAULTS, type InitInfo, type ReplyChannel, type SessionOptions } from './session.js'
export { FuseDevice, pipeWrapAvailable } from './device.js'
export { KernelFuseError, type KernelFuseErrorCode } from './errors.js'

// Child process: mounts NodeMemFs (node-memfs.ts) on MOUNTPOINT through the kernel-protocol front
// end (src/fuse/kernel/, KernelMount), prints {"ready":true} once the mount answers, and unmounts
// and exits on SIGTERM/SIGINT (or when the parent's pipe closes). The kernel-front-end twin of
// serve.ts; started by startKernelCeiling() (start-kernel.ts), never by hand.
//
//   node --import tsx bench/ceiling/serve-kernel.ts MOUNTPOINT CACHE_SECONDS
//
// Options as serve.ts (a default mapnfs mount): entry and attribute timeouts CACHE_SECONDS,
// default_permissions, read-write, allow_other. It loads src/ through tsx rather than dist/: the
// front end has no native part, and the transpiled code is what dist/ would hold.
import { stat } from 'node:fs/promises'
import { KernelMount } from '../../src/fuse/kernel/index.js'
import { NodeMemFs } from './node-memfs.js'

const [mountpoint, cache] = process.argv.slice(2)
if (mountpoint === undefined || cache === undefined) throw new Error('usage: serve-kernel.ts MOUNTPOINT CACHE_SECONDS')

const log = (line: string): void => { process.stderr.write(`memfs-kernel: ${line}\n`) }
const mount = new KernelMount(mountpoint, new NodeMemFs({ cacheSeconds: Number(cache) }), {
  fsname: 'memfs:/ceiling-kernel',
  readonly: false,
  defaultPermissions: true,
  log,
})
await mount.mount()
// Answered by this process's own loop: fs.promises runs the stat on libuv's pool, not here.
await stat(mountpoint)

let stopping = false
const stop = (): void => {
  if (stopping) return
  stopping = true
  mount.unmount().then(() => process.exit(0), (err: Error) => {
    log(`unmount failed: ${err.message}`)
    process.exit(1)
  })
}
void mount.closed.then(() => { if (!stopping) process.exit(0) })
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, stop)
process.stdin.on('end', stop).resume()
process.stdout.write(`${JSON.stringify({ ready: true, init: mount.init })}\n`)

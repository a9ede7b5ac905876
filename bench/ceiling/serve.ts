// Child process: mounts MemFs on MOUNTPOINT with the FUSE options mapnfs mounts with, prints
// {"ready":true} once the mount answers, and unmounts and exits on SIGTERM/SIGINT (or when the
// parent's pipe closes). Started by startCeiling() (bench/ceiling/start.ts), never by hand.
//
//   node --import tsx bench/ceiling/serve.ts MOUNTPOINT CACHE_SECONDS
//
// The options copy src/mount/lifecycle.ts for a default mount (hard, `perm`, auto_cache, no
// `cache`): cacheSeconds 0 (entry and attribute timeouts 0: every stat reaches the daemon, as with
// mapnfs's caching off), autoCache true, defaultPermissions true, readonly false, opTimeoutMs false.
import { stat } from 'node:fs/promises'
import type * as Adapter from '../../src/fuse/adapter.js'
import { importDist } from '../lib/dist.js'
import { MemFs } from './memfs.js'

const [mountpoint, cache] = process.argv.slice(2)
if (mountpoint === undefined || cache === undefined) throw new Error('usage: serve.ts MOUNTPOINT CACHE_SECONDS')

const { FuseMount, patchedBindingAvailable } = await importDist<typeof Adapter>('fuse/adapter.js')
if (!patchedBindingAvailable()) throw new Error('fuse-native has not been rebuilt with the mapnfs patch (run npm run build)')
const log = (line: string): void => { process.stderr.write(`memfs: ${line}\n`) }
const fuse = new FuseMount(mountpoint, new MemFs(), {
  fsname: 'memfs:/ceiling',
  readonly: false,
  cacheSeconds: Number(cache),
  autoCache: true,
  defaultPermissions: true,
  opTimeoutMs: false,
  log,
})
await fuse.mount()
// Answered by this process's own loop: fs.promises runs the stat on libuv's pool, not here.
await stat(mountpoint)

let stopping = false
const stop = (): void => {
  if (stopping) return
  stopping = true
  fuse.unmount().then(() => process.exit(0), (err: Error) => {
    log(`unmount failed: ${err.message}`)
    process.exit(1)
  })
}
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, stop)
process.stdin.on('end', stop).resume()
process.stdout.write(`${JSON.stringify({ ready: true })}\n`)

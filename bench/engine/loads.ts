// The benchmark's loads as NFS calls straight on an Engine, without FUSE: what mapnfs's own client
// reaches when nothing but the engine, the server and the loopback stand in the way (the no-FUSE
// ceiling). Each load does the work a mounted client must do at least for the same application
// load, and nothing else:
//
//   seq write   WRITE UNSTABLE of wsize pieces, IN_FLIGHT at once, each filled into a fresh
//               Engine.allocWriteBuffer (the copy out of the kernel's buffer), then one COMMIT
//   seq read    READ of rsize pieces, IN_FLIGHT at once, each copied out (the copy into the
//               kernel's buffer)
//   rand read   READ of 4 KiB at random aligned offsets, IN_FLIGHT at once, copied out
//   stat        LOOKUP + GETATTR of one name per stat, one at a time (one application thread)
//   create      CREATE (GUARDED) per file, one at a time
//   ls          READDIRPLUS until EOF, with the sizes NfsFilesystem asks for
//   ping        GETATTR of the root, one at a time: the round trip (to check the delay proxy)
//
// Every load resolves with what it moved, how long it took (performance.now(), from the first call
// to the last reply) and the RPCs it sent; it rejects with the engine's error.
import { performance } from 'node:perf_hooks'
import type { Engine } from '../../src/engine/index.js'
import type { CallCredential } from '../../src/proto/nfs3/index.js'
import { GUARDED, UNCHECKED, UNSTABLE } from '../../src/xdr/types.js'
// READDIRPLUS dircount/maxcount as the mount asks.
import { READDIR_DIRCOUNT, READDIR_MAXCOUNT } from '../../src/fuse/nfs-rules.js'

const RAND_BS = 4096

export interface LoadResult {
  bytes: number
  ops: number
  seconds: number
  calls: number
  /** ping: the median round trip, ms. */
  medianMs?: number
}

export interface Session {
  engine: Engine
  cred: CallCredential
  rsize: number
  wsize: number
}

/** Runs FN on K workers until each returns false; resolves when all are done. */
async function workers(k: number, fn: (scratch: Buffer) => Promise<boolean>, scratchSize: number): Promise<void> {
  await Promise.all(Array.from({ length: k }, async () => {
    const scratch = Buffer.allocUnsafe(scratchSize)
    while (await fn(scratch));
  }))
}

async function measured(s: Session, body: () => Promise<{ bytes: number; ops: number }>): Promise<LoadResult> {
  const calls = s.engine.stats().calls
  const t0 = performance.now()
  const { bytes, ops } = await body()
  return { bytes, ops, seconds: (performance.now() - t0) / 1000, calls: s.engine.stats().calls - calls }
}

/** Handle of PATH ('a/b'), from the export root, one LOOKUP per component. */
export async function resolvePath(s: Session, root: Buffer, path: string): Promise<Buffer> {
  let fh = root
  for (const name of path.split('/').filter(Boolean)) fh = (await s.engine.lookup(s.cred, fh, name)).fh!
  return fh
}

/** Writes SIZE bytes, or what it can in SECONDS (no new WRITE starts after that), then COMMITs. */
export function seqWrite(s: Session, dir: Buffer, name: string, size: number, seconds: number, inFlight: number): Promise<LoadResult> {
  const source = Buffer.alloc(s.wsize, 0x5a)
  return measured(s, async () => {
    const fh = (await s.engine.create(s.cred, dir, name, { mode: UNCHECKED, attrs: { mode: 0o644 } })).fh!
    const deadline = performance.now() + seconds * 1000
    let next = 0
    await workers(inFlight, async () => {
      if (next >= size || performance.now() >= deadline) return false
      let off = next
      const end = Math.min(size, off + s.wsize)
      next = end
      while (off < end) {
        const data = s.engine.allocWriteBuffer(end - off)
        source.copy(data, 0, 0, data.length)
        const n = (await s.engine.write(s.cred, fh, off, data, UNSTABLE)).count!
        if (n === 0) throw new Error(`WRITE at ${off} acknowledged 0 bytes`)
        off += n
      }
      return true
    }, 0)
    await s.engine.commit(s.cred, fh, 0, 0)
    return { bytes: next, ops: Math.ceil(next / s.wsize) }
  })
}

/** Reads the first SIZE bytes of FH, or what it can in SECONDS. */
export function seqRead(s: Session, fh: Buffer, size: number, seconds: number, inFlight: number): Promise<LoadResult> {
  return measured(s, async () => {
    const deadline = performance.now() + seconds * 1000
    let next = 0
    let bytes = 0
    await workers(inFlight, async (scratch) => {
      if (next >= size || performance.now() >= deadline) return false
      const off = next
      next += s.rsize
      const data = (await s.engine.read(s.cred, fh, off, Math.min(s.rsize, size - off))).data!
      bytes += data.copy(scratch)
      return true
    }, s.rsize)
    return { bytes, ops: Math.ceil(bytes / s.rsize) }
  })
}

export function randRead(s: Session, fh: Buffer, size: number, seconds: number, inFlight: number): Promise<LoadResult> {
  return measured(s, async () => {
    const deadline = performance.now() + seconds * 1000
    const blocks = Math.floor(size / RAND_BS)
    let ops = 0
    await workers(inFlight, async (scratch) => {
      if (performance.now() >= deadline) return false
      const off = Math.floor(Math.random() * blocks) * RAND_BS
      ;(await s.engine.read(s.cred, fh, off, RAND_BS)).data!.copy(scratch)
      ops++
      return true
    }, RAND_BS)
    return { bytes: ops * RAND_BS, ops }
  })
}

export function stat(s: Session, dir: Buffer, names: readonly string[], seconds: number): Promise<LoadResult> {
  return measured(s, async () => {
    const deadline = performance.now() + seconds * 1000
    let ops = 0
    while (performance.now() < deadline) {
      const fh = (await s.engine.lookup(s.cred, dir, names[ops % names.length]!)).fh!
      await s.engine.getattr(s.cred, fh)
      ops++
    }
    return { bytes: 0, ops }
  })
}

export function create(s: Session, dir: Buffer, prefix: string, count: number): Promise<LoadResult> {
  return measured(s, async () => {
    for (let i = 0; i < count; i++) await s.engine.create(s.cred, dir, `${prefix}${i}`, { mode: GUARDED, attrs: { mode: 0o644 } })
    return { bytes: 0, ops: count }
  })
}

/** One listing; `ops` is the number of entries (with attributes, as ls -l needs them). */
export function readdir(s: Session, dir: Buffer): Promise<LoadResult> {
  return measured(s, async () => {
    let cookie = 0n
    let verf = Buffer.alloc(8)
    let ops = 0
    for (;;) {
      const r = await s.engine.readdirplus(s.cred, dir, cookie, verf, READDIR_DIRCOUNT, READDIR_MAXCOUNT)
      verf = r.cookieverf ?? verf
      const entries = r.entries ?? []
      ops += entries.length
      if (r.eof || entries.length === 0) break
      cookie = entries[entries.length - 1]!.cookie
    }
    return { bytes: 0, ops }
  })
}

/** COUNT GETATTRs of FH one after the other; `medianMs` is the median round trip. */
export async function ping(s: Session, fh: Buffer, count: number): Promise<LoadResult> {
  const times: number[] = []
  const r = await measured(s, async () => {
    for (let i = 0; i < count; i++) {
      const t0 = performance.now()
      await s.engine.getattr(s.cred, fh)
      times.push(performance.now() - t0)
    }
    return { bytes: 0, ops: count }
  })
  times.sort((a, b) => a - b)
  return { ...r, medianMs: times[count >> 1] }
}

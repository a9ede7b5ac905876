// PooledEngine against a real nfs-ganesha: the same answers as the inline engine for every
// procedure, the calls of one turn batched into one message per worker, WRITE data shared and
// READ replies moved rather than copied, credentials sent once per worker, server errors typed.
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, startGanesha, type Ganesha } from '../../fixtures/ganesha.js'
import { fixtureSuite } from '../../fixtures/suite.js'
import { mnt } from '../../../src/proto/mount/client.js'
import { Nfs3Error } from '../../../src/proto/nfs3/index.js'
import { XdrCodec } from '../../../src/xdr/index.js'
import { NF3FIFO, FILE_SYNC, UNSTABLE, GUARDED, EXCLUSIVE } from '../../../src/xdr/types.js'
import { InlineEngine, PooledEngine, type Engine, type EngineOptions } from '../../../src/engine/index.js'

interface Ctx { g: Ganesha; exp: string; root: Buffer; content: Buffer }

const ROOT = { auth: { stamp: 1, machine: 'unit', uid: 0, gid: 0, gids: [0] }, map: null }
const user = (uid: number) => ({ auth: { stamp: 1, machine: 'unit', uid, gid: uid, gids: [uid] }, map: null })
const codec = XdrCodec.load()
const FUTURE = Date.now() / 1000 + 86_400 // atime after mtime: reads and listings leave it alone (relatime)

const s = fixtureSuite<Ctx>('PooledEngine against nfs-ganesha', async (defer) => {
  const exp = makeExportDir()
  const content = Buffer.alloc(1 << 20)
  for (let i = 0; i < content.length; i += 4) content.writeUInt32BE((i * 2654435761) >>> 0, i)
  mkdirSync(join(exp, 'ro'))
  writeFileSync(join(exp, 'ro', 'file'), content)
  symlinkSync('file', join(exp, 'ro', 'link'))
  mkdirSync(join(exp, 'ro', 'sub'))
  for (const p of ['ro/file', 'ro/sub', 'ro']) utimesSync(join(exp, p), FUTURE, 1_700_000_000)
  mkdirSync(join(exp, 'users'))
  chmodSync(join(exp, 'users'), 0o777)
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const root = await mnt(codec, { host: '127.0.0.1', port: g.mountPort, reservedPort: false, timeoutMs: 5000, retrans: 1, maxRecord: 65536, reconnect: false }, ROOT.auth, exp)
  return { g, exp, root, content }
})

function options(g: Ganesha, extra: Partial<EngineOptions> = {}): EngineOptions {
  return { host: '127.0.0.1', port: g.nfsPort, reservedPort: false, timeoutMs: 5000, retrans: 2, maxRecord: (1 << 20) + 65536, reconnect: true, ...extra }
}

async function withEngines<T>(g: Ganesha, fn: (e: Engine, name: string) => Promise<T>): Promise<T[]> {
  const out: T[] = []
  for (const [name, open] of [
    ['inline', () => InlineEngine.open(options(g), codec)],
    ['pooled', () => PooledEngine.open({ ...options(g, { nconnect: 2 }), workers: 2 })],
  ] as const) {
    const e = await open()
    try {
      out.push(await fn(e, name))
    } finally {
      await e.close()
    }
  }
  return out
}

/** Keys and kinds of a value, recursively: what must agree between engines when values may not. */
function shape(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return 'Buffer'
  if (Array.isArray(v)) return v.map(shape)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]))
  return typeof v
}

s.test('read-only procedures: the pooled engine answers exactly what the inline engine does', async ({ g, root }) => {
  const [inline, pooled] = await withEngines(g, async (e) => {
    const dir = (await e.lookup(ROOT, root, 'ro')).fh!
    const file = await e.lookup(ROOT, dir, 'file')
    const link = await e.lookup(ROOT, dir, 'link')
    const listing = await e.readdirplus(ROOT, dir, 0n, Buffer.alloc(8), 16384, 65536)
    listing.entries!.sort((a, b) => a.name.localeCompare(b.name))
    return {
      file,
      getattr: await e.getattr(ROOT, file.fh!),
      access: await e.access(ROOT, file.fh!, 0x3f),
      readlink: await e.readlink(ROOT, link.fh!),
      small: await e.read(ROOT, file.fh!, 100, 1000),
      big: await e.read(ROOT, file.fh!, 4096, 512 * 1024),
      tail: await e.read(ROOT, file.fh!, (1 << 20) - 10, 4096),
      listing,
      fsstat: shape(await e.fsstat(ROOT, root)),
      fsinfo: await e.fsinfo(ROOT, root),
      pathconf: await e.pathconf(ROOT, root),
    }
  })
  assert.equal(pooled, inline)
  assert.ok(Buffer.isBuffer(pooled!.big.data) && pooled!.big.data.length === 512 * 1024)
  assert.is(pooled!.tail.eof, true)
  assert.is(pooled!.readlink.target!.toString(), 'file')
})

s.test('modifying procedures: same result shapes from both engines, and the server sees the same effects', async ({ g, root, exp }) => {
  const results = await withEngines(g, async (e, name) => {
    const dir = (await e.mkdir(ROOT, root, `mod-${name}`, { mode: 0o755 })).fh!
    const created = await e.create(ROOT, dir, 'f', { mode: GUARDED, attrs: { mode: 0o600 } })
    const excl = await e.create(ROOT, dir, 'x', { mode: EXCLUSIVE, verf: Buffer.from('12345678') })
    const data = e.allocWriteBuffer(300_000)
    data.fill(0x5a)
    const write = await e.write(ROOT, created.fh!, 0, data, UNSTABLE)
    const sync = await e.write(ROOT, created.fh!, 300_000, Buffer.from('tail'), FILE_SYNC)
    const commit = await e.commit(ROOT, created.fh!, 0, 0)
    const setattr = await e.setattr(ROOT, created.fh!, { mode: 0o640, mtime: { seconds: 1_600_000_000, nseconds: 5 } })
    const symlink = await e.symlink(ROOT, dir, 's', { mode: 0o777 }, 'f')
    const fifo = await e.mknod(ROOT, dir, 'p', NF3FIFO, { mode: 0o644 })
    const link = await e.link(ROOT, created.fh!, dir, 'hard')
    const rename = await e.rename(ROOT, dir, 'hard', dir, 'hard2')
    const remove = await e.remove(ROOT, dir, 'hard2')
    const sub = await e.mkdir(ROOT, dir, 'd', { mode: 0o700 })
    const rmdir = await e.rmdir(ROOT, dir, 'd')
    e.releaseWriteBuffer(data)
    return { created, excl, write, sync, commit, setattr, symlink, fifo, link, rename, remove, sub, rmdir }
  })
  assert.equal(shape(results[1]), shape(results[0]))
  for (const name of ['inline', 'pooled']) {
    const f = join(exp, `mod-${name}`, 'f')
    assert.is(statSync(f).mode & 0o777, 0o640, name)
    assert.is(statSync(f).mtimeMs, 1_600_000_000_000, name)
    const bytes = readFileSync(f)
    assert.is(bytes.length, 300_004, name)
    assert.ok(bytes.subarray(0, 300_000).every((b) => b === 0x5a) && bytes.subarray(300_000).toString() === 'tail', `${name}: content`)
  }
  assert.is(results[1]!.write.count, 300_000)
  assert.is(results[1]!.commit.verf, results[1]!.write.verf)
})

s.test('batching: the calls of one event-loop turn reach each worker in one message', async ({ g, root }) => {
  const e = await PooledEngine.open({ ...options(g), workers: 2 })
  try {
    await e.getattr(ROOT, root) // both workers warm, credential defined in one of them
    const before = e.transferStats()
    const res = await Promise.all(Array.from({ length: 40 }, () => e.getattr(ROOT, root)))
    const after = e.transferStats()
    assert.ok(res.every((r) => r.attr !== undefined))
    assert.is(after.dispatched - before.dispatched, 40)
    assert.is(after.batchesIn - before.batchesIn, 2, '40 calls made in one turn: one message per worker')
    assert.ok(after.batchesOut - before.batchesOut < 40, `${after.batchesOut - before.batchesOut} reply messages for 40 calls`)
  } finally {
    await e.close()
  }
})

s.test('WRITE data is shared with the worker, not copied; READ replies are transferred to the main thread', async ({ g, root, exp, content }) => {
  const e = await PooledEngine.open({ ...options(g), workers: 1 })
  try {
    const f = await e.create(ROOT, root, 'moves', { mode: GUARDED, attrs: { mode: 0o644 } })
    const shared = e.allocWriteBuffer(256 * 1024)
    assert.ok(shared.buffer instanceof SharedArrayBuffer, 'allocWriteBuffer gives shared memory')
    content.copy(shared, 0, 0, shared.length)
    let st = e.transferStats()
    await e.write(ROOT, f.fh!, 0, shared, FILE_SYNC)
    assert.is(e.transferStats().writesShared - st.writesShared, 1, 'the worker got the shared memory itself')
    assert.is(e.transferStats().writesCopied - st.writesCopied, 0)
    st = e.transferStats()
    await e.write(ROOT, f.fh!, shared.length, content.subarray(shared.length, shared.length + 1000), FILE_SYNC)
    assert.is(e.transferStats().writesCopied - st.writesCopied, 1, 'a plain Buffer is copied once into shared memory')
    assert.is(e.transferStats().writesShared - st.writesShared, 1, 'and that copy is shared')
    assert.equal(readFileSync(join(exp, 'moves')), content.subarray(0, shared.length + 1000))

    const file = (await e.lookup(ROOT, (await e.lookup(ROOT, root, 'ro')).fh!, 'file')).fh!
    st = e.transferStats()
    const big = await e.read(ROOT, file, 0, 512 * 1024)
    assert.is(e.transferStats().readsMoved - st.readsMoved, 1, 'a 512 KiB reply record moved without a copy')
    assert.not.ok(big.data!.buffer instanceof SharedArrayBuffer)
    assert.ok(big.data!.buffer.byteLength < 512 * 1024 + 4096, 'the reply record itself, not a slab holding other data')
    assert.equal(createHash('sha256').update(big.data!).digest('hex'), createHash('sha256').update(content.subarray(0, 512 * 1024)).digest('hex'))
    st = e.transferStats()
    const small = await e.read(ROOT, file, 8, 100)
    assert.is(e.transferStats().readsCopied - st.readsCopied, 1, 'a small READ shares its TCP chunk: copied once in the worker')
    assert.equal(small.data, content.subarray(8, 108))
  } finally {
    await e.close()
  }
})

s.test('credentials cross once per worker, and every call still carries its own', async ({ g, root, exp }) => {
  const e = await PooledEngine.open({ ...options(g), workers: 2 })
  try {
    const users = (await e.lookup(ROOT, root, 'users')).fh!
    const before = e.transferStats().credentialsDefined
    const uids = [1001, 1002, 1003]
    await Promise.all(uids.flatMap((uid) => Array.from({ length: 10 }, (_, i) =>
      // A fresh credential object per call, as a multi-user mount makes per caller pid.
      e.create(user(uid), users, `u${uid}-${i}`, { mode: GUARDED, attrs: { mode: 0o644 } }))))
    const defined = e.transferStats().credentialsDefined - before
    assert.ok(defined >= uids.length && defined <= uids.length * 2, `${defined} definitions for 3 credentials over 2 workers`)
    for (const uid of uids) {
      for (let i = 0; i < 10; i++) assert.is(statSync(join(exp, 'users', `u${uid}-${i}`)).uid, uid, `owner of u${uid}-${i}`)
    }
  } finally {
    await e.close()
  }
})

s.test('server errors come back as Nfs3Error with status, proc and errno, worded as inline', async ({ g, root }) => {
  const [inline, pooled] = await withEngines(g, async (e) => {
    const missing = await e.lookup(ROOT, root, 'no-such-name').catch((x: unknown) => x)
    const stale = await e.getattr(ROOT, Buffer.alloc(root.length, 0xee)).catch((x: unknown) => x)
    return [missing, stale] as Error[]
  })
  for (const [i, want] of [[0, 2], [1, 116]] as const) {
    const p = pooled![i]! as Nfs3Error
    const l = inline![i]! as Nfs3Error
    assert.instance(p, Nfs3Error)
    assert.equal([p.code, p.errno, p.status, p.proc, p.message], [l.code, l.errno, l.status, l.proc, l.message])
    assert.is(p.errno, want)
  }
})

s.test('stats: counters summed over the workers and their connections', async ({ g, root }) => {
  const e = await PooledEngine.open({ ...options(g, { nconnect: 2 }), workers: 2 })
  try {
    await Promise.all(Array.from({ length: 30 }, () => e.getattr(ROOT, root)))
    await Promise.all(Array.from({ length: 10 }, () => e.fsstat(ROOT, root)))
    const st = e.stats()
    assert.is(st.byProc[1], 30)
    assert.is(st.byProc[18], 10)
    assert.is(st.calls, 40)
    assert.is(st.replies, 40)
    assert.is(st.inFlight, 0)
    assert.ok(st.maxInFlight >= 10, `maxInFlight ${st.maxInFlight}`)
  } finally {
    await e.close()
  }
})

s.test('an engine that cannot reach the server fails to open with the RpcConnectError inline gives, every time', async ({ g }) => {
  const closed = { ...options(g), port: 1 }
  const a = await InlineEngine.open(closed, codec).catch((x: unknown) => x) as Error
  // Several times: a worker's failure once got lost when it raced its port's closing, and open hung.
  for (let i = 0; i < 6; i++) {
    const b = await PooledEngine.open({ ...closed, workers: 2 }).catch((x: unknown) => x) as Error
    assert.is(b.constructor, a.constructor)
    assert.equal([(b as { code?: string }).code, b.message], [(a as { code?: string }).code, a.message])
  }
})

s.run()


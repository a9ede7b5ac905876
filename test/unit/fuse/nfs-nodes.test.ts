// NfsNodes (the kernel front end's inode-based filesystem) against a scripted server: lookup
// counts and FORGET, one node per NFS file (hard links), READDIRPLUS entries counted only when the
// kernel takes them, a file unlinked while open, and the attributes reuse bound.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { NfsNodes } from '../../../src/fuse/nfs-nodes.js'
import { IdentityMap } from '../../../src/identity/index.js'
import { Nfs3Error } from '../../../src/proto/nfs3/index.js'
import type { Engine } from '../../../src/engine/index.js'
import type { Entryplus3, Fattr3 } from '../../../src/xdr/types.js'
import { FILE_SYNC } from '../../../src/xdr/types.js'
import type { DirSink, NodeEntry } from '../../../src/fuse/node-operations.js'

const caller = { uid: 2000, gid: 2000, pid: 1 }
const t = { seconds: 1, nseconds: 0 }

/** A tiny server: files by handle, directories as name -> handle. */
function server(): { engine: Engine; calls: string[]; files: Map<string, { type: number; nlink: number; data: Buffer }>; dirs: Map<string, Map<string, string>> } {
  const files = new Map<string, { type: number; nlink: number; data: Buffer }>([['root', { type: 2, nlink: 2, data: Buffer.alloc(0) }]])
  const dirs = new Map<string, Map<string, string>>([['root', new Map()]])
  const calls: string[] = []
  let next = 1
  const attr = (fh: string): Fattr3 => {
    const f = files.get(fh)
    if (!f) throw new Nfs3Error(70, 1) // NFS3ERR_STALE
    return { type: f.type, mode: 0o644, nlink: f.nlink, uid: 1234, gid: 1234, size: f.data.length, used: 0, rdevMajor: 0, rdevMinor: 0, fsid: 1, fileid: BigInt(fh.length + fh.charCodeAt(fh.length - 1)), atime: t, mtime: t, ctime: t }
  }
  const lookupIn = (dir: Buffer, name: string): string => {
    const fh = dirs.get(dir.toString())?.get(name)
    if (fh === undefined) throw new Nfs3Error(2, 3)
    return fh
  }
  const make = (dir: Buffer, name: string, type: number): string => {
    if (dirs.get(dir.toString())!.has(name)) throw new Nfs3Error(17, 8)
    const fh = `f${next++}`
    files.set(fh, { type, nlink: 1, data: Buffer.alloc(0) })
    if (type === 2) dirs.set(fh, new Map())
    dirs.get(dir.toString())!.set(name, fh)
    return fh
  }
  const engine = {
    lookup: async (_c: unknown, dir: Buffer, name: string) => { calls.push(`lookup ${name}`); const fh = lookupIn(dir, name); return { status: 0, fh: Buffer.from(fh), attr: attr(fh) } },
    getattr: async (_c: unknown, fh: Buffer) => { calls.push('getattr'); return { status: 0, attr: attr(fh.toString()) } },
    access: async () => ({ status: 0, access: 0x3f }),
    create: async (_c: unknown, dir: Buffer, name: string) => { calls.push(`create ${name}`); const fh = make(dir, name, 1); return { status: 0, fh: Buffer.from(fh), attr: attr(fh) } },
    mkdir: async (_c: unknown, dir: Buffer, name: string) => { const fh = make(dir, name, 2); return { status: 0, fh: Buffer.from(fh), attr: attr(fh) } },
    link: async (_c: unknown, fh: Buffer, dir: Buffer, name: string) => {
      dirs.get(dir.toString())!.set(name, fh.toString())
      files.get(fh.toString())!.nlink++
      return { status: 0, attr: attr(fh.toString()) }
    },
    remove: async (_c: unknown, dir: Buffer, name: string) => {
      calls.push(`remove ${name}`)
      const fh = lookupIn(dir, name)
      dirs.get(dir.toString())!.delete(name)
      const f = files.get(fh)!
      if (--f.nlink === 0) files.delete(fh)
      return { status: 0 }
    },
    rmdir: async (_c: unknown, dir: Buffer, name: string) => {
      const fh = lookupIn(dir, name)
      dirs.get(dir.toString())!.delete(name)
      files.delete(fh)
      dirs.delete(fh)
      return { status: 0 }
    },
    rename: async (_c: unknown, from: Buffer, name: string, to: Buffer, newName: string) => {
      calls.push(`rename ${name} ${newName}`)
      const fh = lookupIn(from, name)
      dirs.get(from.toString())!.delete(name)
      dirs.get(to.toString())!.set(newName, fh)
      return { status: 0 }
    },
    readdirplus: async (_c: unknown, dir: Buffer, cookie: bigint) => {
      const names = [...dirs.get(dir.toString())!.keys()]
      const from = Number(cookie)
      const page = names.slice(from, from + 2)
      const entries: Entryplus3[] = page.map((name, i) => {
        const fh = dirs.get(dir.toString())!.get(name)!
        return { fileid: 1n, name, cookie: BigInt(from + i + 1), fh: Buffer.from(fh), attr: attr(fh) }
      })
      return { status: 0, cookieverf: Buffer.alloc(8), entries, eof: from + 2 >= names.length }
    },
    write: async (_c: unknown, fh: Buffer, offset: number, data: Buffer) => {
      const f = files.get(fh.toString())
      if (!f) throw new Nfs3Error(70, 7)
      const end = Math.max(f.data.length, offset + data.length)
      const n = Buffer.alloc(end)
      f.data.copy(n)
      data.copy(n, offset)
      f.data = n
      return { status: 0, count: data.length, committed: FILE_SYNC, verf: 1n }
    },
    read: async (_c: unknown, fh: Buffer, offset: number, count: number) => {
      const f = files.get(fh.toString())
      if (!f) throw new Nfs3Error(70, 6)
      const data = f.data.subarray(offset, offset + count)
      return { status: 0, count: data.length, eof: offset + data.length >= f.data.length, data }
    },
    commit: async () => ({ status: 0, verf: 1n }),
    allocWriteBuffer: (n: number) => Buffer.alloc(n),
    releaseWriteBuffer: () => undefined,
  } as unknown as Engine
  return { engine, calls, files, dirs }
}

function make(engine: Engine, attrMaxAgeMs = 20): NfsNodes {
  return new NfsNodes(engine, new IdentityMap({ kind: 'mapped', uid: 1234, gid: 1234 }), Buffer.from('root'), {
    rsize: 65536, wsize: 65536, readonly: false, sync: false, kernelCacheSeconds: 0, attrMaxAgeMs, autoCache: true, log: () => undefined,
  })
}

test('every name of a hard-linked file is one node; FORGET of every lookup drops it', async () => {
  const s = server()
  const fs = make(s.engine)
  const { entry } = await fs.create(caller, 1, 'a', 0o644, 0o102)
  const linked = await fs.link(caller, entry.nodeid, 1, 'b')
  assert.is(linked.nodeid, entry.nodeid)
  assert.is(linked.attr.nlink, 2)
  const again = await fs.lookup(caller, 1, 'b')
  assert.is(again.nodeid, entry.nodeid)
  const before = fs.nodeCount
  fs.forget(entry.nodeid, 2)
  assert.is(fs.nodeCount, before, 'dropped while the kernel still holds a lookup (and an open file)')
  fs.forget(entry.nodeid, 1)
  assert.is(fs.nodeCount, before, 'dropped while open')
})

test('a node the kernel forgot entirely and no open file uses is gone: its id is ESTALE', async () => {
  const s = server()
  const fs = make(s.engine)
  await fs.mkdir(caller, 1, 'd', 0o755)
  const e = await fs.lookup(caller, 1, 'd')
  fs.forget(e.nodeid, 2)
  const err = await fs.getattr(caller, e.nodeid, undefined).catch((x: unknown) => x)
  assert.is((err as { errno: number }).errno, 116)
  // Looked up again, it is a new node id (ids are never reused).
  const e2 = await fs.lookup(caller, 1, 'd')
  assert.is.not(e2.nodeid, e.nodeid)
})

test('READDIRPLUS entries count as lookups only when the kernel takes them, and resume from the offset', async () => {
  const s = server()
  const fs = make(s.engine)
  for (const n of ['a', 'b', 'c', 'd', 'e']) await fs.mkdir(caller, 1, n, 0o755)
  const created = fs.nodeCount
  for (const n of ['a', 'b', 'c', 'd', 'e']) fs.forget((await fs.lookup(caller, 1, n)).nodeid, 2)
  assert.is(fs.nodeCount, created - 5)
  const dh = (await fs.opendir(caller, 1)).fh
  const got: { name: string; off: bigint; entry?: NodeEntry }[] = []
  const sink = (room: number): DirSink => ({
    add(name, off, _type, entry) {
      if (room-- <= 0) return false
      got.push({ name, off, ...(entry ? { entry } : {}) })
      return true
    },
  })
  await fs.readdirplus(caller, 1, dh, 0n, sink(3))
  assert.equal(got.map((g) => g.name), ['a', 'b', 'c'])
  assert.is(fs.nodeCount, created - 5 + 3, 'only the three taken are held')
  await fs.readdirplus(caller, 1, dh, got[2]!.off, sink(10))
  assert.equal(got.map((g) => g.name), ['a', 'b', 'c', 'd', 'e'])
  await fs.releasedir(dh)
  for (const g of got) fs.forget(g.entry!.nodeid, 1)
  assert.is(fs.nodeCount, created - 5)
})

test('a file unlinked while open lives on under a hidden name and is removed at its last release', async () => {
  const s = server()
  const fs = make(s.engine)
  const { entry, open } = await fs.create(caller, 1, 'f', 0o644, 0o102)
  assert.is(await fs.write(caller, open.fh, Buffer.from('still here'), 0), 10)
  await fs.unlink(caller, 1, 'f')
  assert.ok(!s.dirs.get('root')!.has('f'), 'the name is gone')
  const out = Buffer.alloc(10)
  assert.is(await fs.read(open.fh, out, 10, 0), 10)
  assert.is(out.toString(), 'still here')
  assert.is((await fs.getattr(caller, entry.nodeid, open.fh)).attr.size, 10)
  await fs.release(open.fh)
  assert.is(s.dirs.get('root')!.size, 0, 'the hidden name was removed at release')
  assert.ok(s.calls.some((c) => c.startsWith('rename f .mapnfs-hidden-')))
})

test('attributes a reply brought answer the next GETATTR within the reuse bound; a write drops them', async () => {
  const s = server()
  const fs = make(s.engine, 60_000)
  const { entry, open } = await fs.create(caller, 1, 'f', 0o644, 0o102)
  const before = s.calls.filter((c) => c === 'getattr').length
  await fs.getattr(caller, entry.nodeid, undefined)
  assert.is(s.calls.filter((c) => c === 'getattr').length, before, 'CREATE\'s attributes were reused')
  await fs.write(caller, open.fh, Buffer.from('xyz'), 0)
  assert.is((await fs.getattr(caller, entry.nodeid, undefined)).attr.size, 3)
  await fs.release(open.fh)
})

test('RENAME_NOREPLACE onto an existing name is EEXIST and changes nothing; RENAME_EXCHANGE is EINVAL', async () => {
  const s = server()
  const fs = make(s.engine)
  await fs.mkdir(caller, 1, 'a', 0o755)
  await fs.mkdir(caller, 1, 'b', 0o755)
  const err = await fs.rename(caller, 1, 'a', 1, 'b', 1).catch((x: unknown) => x)
  assert.is((err as { errno: number }).errno, 17)
  assert.ok(s.dirs.get('root')!.has('a'))
  const err2 = await fs.rename(caller, 1, 'a', 1, 'b', 2).catch((x: unknown) => x)
  assert.is((err2 as { errno: number }).errno, 22)
  await fs.rename(caller, 1, 'a', 1, 'c', 1)
  assert.ok(s.dirs.get('root')!.has('c'))
})

test('CREATE of a name another client made meanwhile opens it (without O_EXCL) or is EEXIST (with)', async () => {
  const s = server()
  const fs = make(s.engine)
  const first = await fs.create(caller, 1, 'f', 0o644, 0o102)
  await fs.release(first.open.fh)
  const err = await fs.create(caller, 1, 'f', 0o644, 0o302).catch((x: unknown) => x)
  assert.is((err as { errno: number }).errno, 17)
  const again = await fs.create(caller, 1, 'f', 0o644, 0o102)
  assert.is(again.entry.nodeid, first.entry.nodeid)
  await fs.release(again.open.fh)
})

test('a write through one handle lands after another handle\'s unanswered WRITEs, and a read through one sees them', async () => {
  const s = server()
  // The first handle's WRITE travels longer (another connection, a retransmit).
  const write = s.engine.write.bind(s.engine)
  s.engine.write = (async (c: never, fh: Buffer, offset: number, data: Buffer, stable: never) => {
    await new Promise((r) => setTimeout(r, data[0] === 0x41 ? 30 : 1))
    return write(c, fh, offset, data, stable)
  }) as Engine['write']
  const fs = make(s.engine)
  const a = await fs.create(caller, 1, 'f', 0o644, 0o102)
  const b = await fs.open(caller, a.entry.nodeid, 2)
  await fs.write(caller, a.open.fh, Buffer.from('AAAA'), 0)
  const seen = Buffer.alloc(4)
  assert.is(await fs.read(b.fh, seen, 4, 0), 4)
  assert.is(seen.toString(), 'AAAA')
  await fs.write(caller, a.open.fh, Buffer.from('AAAA'), 0)
  // The session's buffer is reused once write() has returned its promise.
  const kernelBuffer = Buffer.from('BB')
  const written = fs.write(caller, b.fh, kernelBuffer, 1)
  kernelBuffer.fill('X')
  assert.is(await written, 2)
  await fs.flush(b.fh)
  await fs.flush(a.open.fh)
  assert.is(s.files.get([...s.dirs.get('root')!.values()][0]!)!.data.toString(), 'ABBA')
  await fs.release(b.fh)
  await fs.release(a.open.fh)
})

test('a name looked up moments ago answers the next LOOKUPs (the reuse bound); removing it ends that at once', async () => {
  const s = server()
  const fs = make(s.engine, 60_000)
  await fs.mkdir(caller, 1, 'd', 0o755)
  const lookups = (): number => s.calls.filter((c) => c === 'lookup d').length
  const a = await fs.lookup(caller, 1, 'd')
  const b = await fs.lookup(caller, 1, 'd')
  assert.is(b.nodeid, a.nodeid)
  assert.is(lookups(), 0, 'MKDIR\'s reply answered both')
  await fs.rmdir(caller, 1, 'd')
  const err = await fs.lookup(caller, 1, 'd').catch((x: unknown) => x)
  assert.is((err as { errno: number }).errno, 2)
  assert.is(lookups(), 1)
})

test('a LOOKUP or READDIRPLUS answered while this mount\'s own WRITE is on its way never hands the kernel the older size', async () => {
  const s = server()
  const write = s.engine.write.bind(s.engine)
  let slow = false
  s.engine.write = (async (c: never, fh: Buffer, offset: number, data: Buffer, stable: never) => {
    if (slow) await new Promise((r) => setTimeout(r, 40))
    return write(c, fh, offset, data, stable)
  }) as Engine['write']
  const fs = make(s.engine, 0)
  const a = await fs.create(caller, 1, 'grow', 0o644, 0o102)
  slow = true
  // The kernel was told this write succeeded: it already shows 4 bytes.
  await fs.write(caller, a.open.fh, Buffer.from('1234'), 0)
  const e = await fs.lookup(caller, 1, 'grow')
  assert.is(e.attr.size, 4)
  await fs.write(caller, a.open.fh, Buffer.from('5678'), 4)
  const entries: NodeEntry[] = []
  const dir = await fs.opendir(caller, 1)
  await fs.readdirplus(caller, 1, dir.fh, 0n, { add: (_n, _o, _t, entry) => { if (entry) entries.push(entry); return true } })
  // Attributes from a READDIRPLUS that may predate the write are not given (the kernel looks up).
  assert.ok(entries.every((x) => x.nodeid !== a.entry.nodeid || x.attr.size === 8), JSON.stringify(entries.map((x) => [x.nodeid, x.attr.size])))
  assert.is((await fs.lookup(caller, 1, 'grow')).attr.size, 8)
  await fs.release(a.open.fh)
})

test.run()

// NfsFilesystem against a scripted Engine (the layer below, faked through its interface): the
// protocol corner cases a real server rarely produces on demand.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { NfsFilesystem } from '../../../src/fuse/filesystem.js'
import { IdentityMap } from '../../../src/identity/index.js'
import { Nfs3Error } from '../../../src/proto/nfs3/index.js'
import type { Engine } from '../../../src/engine/index.js'
import type { Entryplus3, Fattr3 } from '../../../src/xdr/types.js'
import { FILE_SYNC, UNSTABLE } from '../../../src/xdr/types.js'
import { NFS3ERR_BAD_COOKIE } from '../../../src/xdr/constants.js'

const caller = { uid: 2000, gid: 2000, pid: 1 }
const t = { seconds: 1, nseconds: 0 }
const attr = (type = 1, size = 0): Fattr3 => ({ type, mode: 0o644, nlink: 1, uid: 1234, gid: 1234, size, used: size, rdevMajor: 0, rdevMinor: 0, fsid: 1, fileid: 7n, atime: t, mtime: t, ctime: t })
const ROOT = Buffer.from('root')
const FILE = Buffer.from('file')

function make(engine: Partial<Engine>, opts: Partial<{ rsize: number; wsize: number; attrMaxAgeMs: number; sync: boolean }> = {}): NfsFilesystem {
  const base: Partial<Engine> = {
    lookup: async () => ({ status: 0, fh: FILE, attr: attr() }),
    access: async () => ({ status: 0, access: 0x3f }),
    getattr: async () => ({ status: 0, attr: attr(2) }),
    allocWriteBuffer: (n: number) => Buffer.alloc(n),
    releaseWriteBuffer: () => undefined,
  }
  return new NfsFilesystem({ ...base, ...engine } as unknown as Engine, new IdentityMap({ kind: 'mapped', uid: 1234, gid: 1234 }), ROOT,
    { rsize: opts.rsize ?? 4096, wsize: opts.wsize ?? 4096, readonly: false, sync: opts.sync ?? false, dentryTtlMs: 1000, attrMaxAgeMs: opts.attrMaxAgeMs ?? 0, log: () => undefined })
}

const entry = (name: string, cookie: bigint): Entryplus3 => ({ fileid: cookie, name, cookie })

test('readdir follows cookies to EOF and lists every name once', async () => {
  const pages = [[entry('.', 1n), entry('..', 2n), entry('a', 3n)], [entry('b', 4n)]]
  const fs = make({
    readdirplus: async (_c, _fh, cookie) => {
      const page = cookie === 0n ? pages[0]! : pages[1]!
      return { status: 0, cookieverf: Buffer.alloc(8), entries: page, eof: cookie !== 0n }
    },
  })
  assert.equal(await fs.readdir(caller, '/'), ['.', '..', 'a', 'b'])
})

test('readdir stops with EIO on a cookie that does not advance (no endless loop)', async () => {
  let calls = 0
  const fs = make({
    readdirplus: async () => {
      calls++
      return { status: 0, cookieverf: Buffer.alloc(8), entries: [entry('x', 5n)], eof: false }
    },
  })
  const err = await fs.readdir(caller, '/').catch((e: unknown) => e)
  assert.is((err as { errno: number }).errno, 5)
  assert.ok(calls <= 2, `${calls} calls`)
})

test('readdir starts over once after NFS3ERR_BAD_COOKIE', async () => {
  let calls = 0
  const fs = make({
    readdirplus: async (_c, _fh, cookie) => {
      calls++
      if (calls === 2) throw new Nfs3Error(NFS3ERR_BAD_COOKIE, 17)
      return cookie === 0n
        ? { status: 0, cookieverf: Buffer.alloc(8), entries: [entry('a', 1n)], eof: false }
        : { status: 0, cookieverf: Buffer.alloc(8), entries: [entry('b', 2n)], eof: true }
    },
  })
  assert.equal(await fs.readdir(caller, '/'), ['.', '..', 'a', 'b'])
  assert.is(calls, 4)
})

test('short READs are continued until the request is filled or EOF', async () => {
  const content = Buffer.from('0123456789abcdefghij')
  const fs = make({
    read: async (_c, _fh, offset, count) => {
      const n = Math.min(count, 3, content.length - offset) // the server clamps to 3 bytes
      return { status: 0, count: n, eof: offset + n >= content.length, data: content.subarray(offset, offset + n) }
    },
  })
  const fd = await fs.open(caller, '/f', 0)
  const buf = Buffer.alloc(30)
  assert.is(await fs.read(fd, buf, 30, 2), 18)
  assert.is(buf.subarray(0, 18).toString(), content.subarray(2).toString())
})

test('writes are split to wsize, short WRITEs resent from where they stopped', async () => {
  const server = Buffer.alloc(20000)
  const sizes: number[] = []
  const fs = make({
    write: async (_c, _fh, offset, data) => {
      sizes.push(data.length)
      const n = Math.min(data.length, 1000) // acknowledges at most 1000 bytes per call
      data.copy(server, offset, 0, n)
      return { status: 0, count: n, committed: FILE_SYNC, verf: 1n }
    },
  }, { wsize: 4096 })
  const fd = await fs.open(caller, '/f', 1)
  const data = Buffer.from(Array.from({ length: 10000 }, (_, i) => i & 0xff))
  assert.is(await fs.write(fd, data, 100), 10000)
  await fs.fsync(fd)
  assert.ok(server.subarray(100, 10100).equals(data))
  assert.ok(sizes.every((s) => s <= 4096))
})

test('COMMIT with a changed verifier rewrites the lost chunks FILE_SYNC; same verifier rewrites nothing (write-through)', async () => {
  let bootVerf = 1n
  const writes: { offset: number; data: string; stable: number }[] = []
  const fs = make({
    write: async (_c, _fh, offset, data, stable) => {
      writes.push({ offset, data: data.toString(), stable })
      return { status: 0, count: data.length, committed: stable === UNSTABLE ? UNSTABLE : FILE_SYNC, verf: bootVerf }
    },
    commit: async () => ({ status: 0, verf: bootVerf }),
  }, { sync: true })
  const fd = await fs.open(caller, '/f', 1)
  await fs.write(fd, Buffer.from('hello'), 0)
  await fs.fsync(fd)
  assert.is(fs.stats().rewrittenChunks, 0)
  await fs.write(fd, Buffer.from('world'), 5)
  bootVerf = 2n // the server restarted after acknowledging "world"
  await fs.fsync(fd)
  assert.is(fs.stats().rewrittenChunks, 1)
  assert.equal(writes.at(-1), { offset: 5, data: 'world', stable: FILE_SYNC })
  await fs.release(fd)
  assert.is(writes.length, 3)
})

test('a failed COMMIT keeps the data for the next attempt and reports the error', async () => {
  let fail = true
  let commits = 0
  const fs = make({
    write: async (_c, _fh, _o, data) => ({ status: 0, count: data.length, committed: UNSTABLE, verf: 9n }),
    commit: async () => {
      commits++
      if (fail) throw new Nfs3Error(28, 21) // NOSPC
      return { status: 0, verf: 9n }
    },
  })
  const fd = await fs.open(caller, '/f', 1)
  await fs.write(fd, Buffer.from('x'), 0)
  const err = await fs.flush(fd).catch((e: unknown) => e)
  assert.is((err as { errno: number }).errno, 28)
  fail = false
  await fs.release(fd)
  assert.is(commits, 2)
})

test('a stale cached handle is resolved again once; a second ESTALE is reported as ESTALE', async () => {
  let lookups = 0
  let staleLeft = 1
  const fs = make({
    lookup: async () => {
      lookups++
      if (staleLeft-- > 0) throw new Nfs3Error(70, 3)
      return { status: 0, fh: FILE, attr: attr(1, 42) }
    },
  })
  assert.is((await fs.getattr(caller, '/f')).size, 42)
  assert.is(fs.stats().staleRetries, 1)
  staleLeft = 2
  const err = await fs.getattr(caller, '/g').catch((e: unknown) => e)
  assert.is((err as { errno: number }).errno, 116)
  assert.ok(lookups >= 4)
})

test('mapped ownership: chown to the local ids goes out as U/G', async () => {
  let sent: unknown
  const fs = make({ setattr: async (_c, _fh, attrs) => { sent = attrs; return { status: 0 } } })
  await fs.chown(caller, '/f', 2000, 2000)
  assert.equal(sent, { uid: 1234, gid: 1234 })
})

test('one LOOKUP answers the requests libfuse makes of a path within the reuse bound; a write drops it', async () => {
  let lookups = 0
  const fs = make({
    lookup: async () => { lookups++; return { status: 0, fh: FILE, attr: attr(1, lookups) } },
    write: async (_c, _fh, _off, data) => ({ status: 0, count: data.length, committed: FILE_SYNC, verf: 1n }),
    getattr: async () => ({ status: 0, attr: attr(1, 99) }),
  }, { attrMaxAgeMs: 1000 })
  for (let i = 0; i < 4; i++) assert.is((await fs.getattr(caller, '/f')).size, 1)
  assert.is(lookups, 1)
  const fd = await fs.open(caller, '/f', 2)
  await fs.write(fd, Buffer.from('x'), 0)
  assert.is((await fs.getattr(caller, '/f')).size, 99, 'the write dropped the cached size: the open file is asked by handle')
})

test('create keeps the CREATE reply\'s handle and attributes: the getattr that follows costs no RPC', async () => {
  let rpcs = 0
  const fs = make({
    create: async () => { rpcs++; return { status: 0, fh: FILE, attr: attr(1, 0), dirAfter: attr(2) } },
    lookup: async () => { rpcs++; return { status: 0, fh: FILE, attr: attr() } },
    getattr: async () => { rpcs++; return { status: 0, attr: attr() } },
  }, { attrMaxAgeMs: 1000 })
  await fs.create(caller, '/d/new', 0o644)
  assert.is(rpcs, 2, 'LOOKUP of /d and CREATE')
  assert.is((await fs.getattr(caller, '/d/new')).size, 0)
  assert.is((await fs.getattr(caller, '/d')).mode & 0o170000, 0o040000)
  assert.is(rpcs, 2)
})

test('truncate by path asks ACCESS MODIFY first: denied means EACCES and no SETATTR (the owner override would destroy data)', async () => {
  const setattrs: unknown[] = []
  let granted = 0x01 // READ only
  const fs = make({
    access: async () => ({ status: 0, access: granted }),
    setattr: async (_c, _fh, attrs) => { setattrs.push(attrs); return { status: 0 } },
  })
  const err = await fs.truncate(caller, '/f', 0).catch((e: unknown) => e)
  assert.is((err as { errno: number }).errno, 13)
  assert.equal(setattrs, [])
  granted = 0x05
  await fs.truncate(caller, '/f', 7)
  assert.equal(setattrs, [{ size: 7 }])
})

test('chmod refused with EPERM is accepted when it only clears set-id bits (kill-priv before a non-owner\'s write)', async () => {
  const fs = make({
    lookup: async () => ({ status: 0, fh: FILE, attr: { ...attr(), mode: 0o6777 } }),
    setattr: async () => { throw new Nfs3Error(1, 2) },
  })
  await fs.chmod(caller, '/f', 0o777)
  await fs.chmod(caller, '/f', 0o2777)
  for (const mode of [0o755, 0o6777, 0o4755]) {
    const err = await fs.chmod(caller, '/f', mode).catch((e: unknown) => e)
    assert.is((err as { errno: number }).errno, 1, `mode ${mode.toString(8)}`)
  }
})

test('opendir asks ACCESS READ: denied is EACCES at open; a file is ENOTDIR', async () => {
  let granted = 0x02
  const fs = make({
    lookup: async (_c, _d, name) => ({ status: 0, fh: FILE, attr: attr(name === 'file' ? 1 : 2) }),
    access: async () => ({ status: 0, access: granted }),
  })
  assert.is(((await fs.opendir(caller, '/d').catch((e: unknown) => e)) as { errno: number }).errno, 13)
  granted = 0x03
  await fs.opendir(caller, '/d')
  assert.is(((await fs.opendir(caller, '/file').catch((e: unknown) => e)) as { errno: number }).errno, 20)
})

test('unlinking or replacing one name of a hard-linked file drops what the other names cached (their link count changed)', async () => {
  // Server side: /a and /b are one file (FILE); the count drops when a name goes.
  let nlink = 3
  let lookups = 0
  const fs = make({
    lookup: async () => {
      lookups++
      return { status: 0, fh: FILE, attr: { ...attr(), nlink } }
    },
    remove: async () => {
      nlink--
      return { status: 0 }
    },
    rename: async () => {
      nlink--
      return { status: 0 }
    },
  }, { attrMaxAgeMs: 60_000 })
  assert.is((await fs.getattr(caller, '/a')).nlink, 3)
  assert.is((await fs.getattr(caller, '/b')).nlink, 3)
  assert.is((await fs.getattr(caller, '/c')).nlink, 3)
  const before = lookups
  assert.is((await fs.getattr(caller, '/a')).nlink, 3, 'from the cache')
  assert.is(lookups, before)
  await fs.unlink(caller, '/b')
  assert.is((await fs.getattr(caller, '/a')).nlink, 2, 'asked again after another name went')
  // A rename onto /c replaces that name of the file: /a's count changes again.
  await fs.getattr(caller, '/c')
  await fs.rename(caller, '/other', '/c')
  assert.is((await fs.getattr(caller, '/a')).nlink, 1)
})

/** A file on a scripted server: WRITEs land when answered, READs answer what has landed. */
function twoHandleServer(): { fs: NfsFilesystem; content: Buffer } {
  const content = Buffer.alloc(16)
  const fs = make({
    write: async (_c, _fh, offset, data) => {
      // The first handle's WRITE travels longer (another connection, a retransmit).
      await new Promise((r) => setTimeout(r, data[0] === 0x41 ? 30 : 1))
      data.copy(content, offset)
      return { status: 0, count: data.length, committed: FILE_SYNC, verf: 1n }
    },
    read: async (_c, _fh, offset, count) => {
      const data = Buffer.from(content.subarray(offset, offset + count))
      return { status: 0, count: data.length, eof: offset + count >= content.length, data }
    },
    commit: async () => ({ status: 0, verf: 1n }),
  })
  return { fs, content }
}

test('a write through one handle lands after what another handle of the file wrote before it (mmap pages go out through any handle)', async () => {
  const { fs, content } = twoHandleServer()
  const a = await fs.open(caller, '/f', 2)
  const b = await fs.open(caller, '/f', 2)
  await fs.write(a, Buffer.from('AAAA'), 0)
  // The kernel's buffer is reused once write() has returned its promise: it must not be read later.
  const kernelBuffer = Buffer.from('BB')
  const written = fs.write(b, kernelBuffer, 1)
  kernelBuffer.fill('X')
  assert.is(await written, 2)
  await fs.flush(b)
  await fs.flush(a)
  assert.is(content.subarray(0, 4).toString(), 'ABBA')
})

test('a read through one handle sees what another handle of the file wrote behind', async () => {
  const { fs } = twoHandleServer()
  const a = await fs.open(caller, '/f', 2)
  const b = await fs.open(caller, '/f', 0)
  await fs.write(a, Buffer.from('hello'), 0)
  const out = Buffer.alloc(5)
  assert.is(await fs.read(b, out, 5, 0), 5)
  assert.is(out.toString(), 'hello')
})

test.run()

// The session's dispatch against a scripted NodeOperations and a capturing channel: requests built
// by hand (wire.ts), replies compared byte for byte, and the lookup/handle bookkeeping when the
// kernel does not take a reply.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Session, type ReplyChannel } from '../../../../src/fuse/kernel/session.js'
import * as abi from '../../../../src/fuse/kernel/abi.js'
import { FsError } from '../../../../src/fuse/errno.js'
import type { NodeOperations } from '../../../../src/fuse/node-operations.js'
import { attrFields, bytes, name, outHeader, request, stat, type Field } from './wire.js'

const ENOENT = 2
const EIO = 5
const ENOSYS = 38
const EOPNOTSUPP = 95
const ENOTTY = 25

interface Harness {
  s: Session
  replies: Buffer[]
  notes: Buffer[]
  calls: unknown[][]
  errors: [string, number][]
  logs: string[]
  /** The channel's answer for the next replies (false: the kernel did not take them). */
  accept: boolean
  feed(b: Buffer): void
}

const entry = { nodeid: 42, generation: 0, attr: stat, entryTimeout: 0, attrTimeout: 0 }
const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

function harness(fs: Partial<NodeOperations>, init = true): Harness {
  const h = { replies: [] as Buffer[], notes: [] as Buffer[], calls: [] as unknown[][], errors: [] as [string, number][], logs: [] as string[], accept: true } as Harness
  const channel: ReplyChannel = {
    reply: (buf, len) => { h.replies.push(Buffer.from(buf.subarray(0, len))); return h.accept },
    notify: (m) => { h.notes.push(m) },
  }
  const record = new Proxy(fs, {
    get(target, prop) {
      const f = (target as Record<string | symbol, unknown>)[prop]
      if (typeof f !== 'function') return f
      return (...args: unknown[]) => { h.calls.push([prop, ...args]); return (f as (...a: unknown[]) => unknown)(...args) }
    },
  }) as NodeOperations
  h.s = new Session(channel, record, { log: (l) => h.logs.push(l), onOpError: (op, e) => h.errors.push([op, e]) })
  // The device hands every request in one reused buffer: so does the harness.
  const rbuf = Buffer.alloc(h.s.readBufferSize)
  h.feed = (b) => { b.copy(rbuf); h.s.handle(rbuf, b.length); rbuf.fill(0xdd, 0, b.length) }
  if (init) {
    h.feed(initRequest())
    h.replies.length = 0
    h.calls.length = 0
  }
  return h
}

function initRequest(flags = 0xffffffff >>> 0, flags2 = 0): Buffer {
  return request(abi.FUSE_INIT, 2, 0, [['u32', 7], ['u32', 45], ['u32', 131072], ['u32', flags], ['u32', flags2], ['pad', 44]])
}

test('INIT: asks for what mapnfs needs, answers 7.38 with max_write 1 MiB and 256 pages, then tells the filesystem', async () => {
  const h = harness({ init: () => undefined }, false)
  h.feed(initRequest())
  const want = abi.FUSE_ASYNC_READ | abi.FUSE_BIG_WRITES | abi.FUSE_MAX_PAGES | abi.FUSE_ASYNC_DIO | abi.FUSE_DO_READDIRPLUS |
    abi.FUSE_ATOMIC_O_TRUNC | abi.FUSE_HANDLE_KILLPRIV_V2 | abi.FUSE_EXPORT_SUPPORT | abi.FUSE_AUTO_INVAL_DATA |
    abi.FUSE_PARALLEL_DIROPS | abi.FUSE_INIT_EXT
  assert.equal(h.replies, [bytes([
    ...outHeader(80, 0, 2),
    ['u32', 7], ['u32', 38], ['u32', 131072], ['u32', want],
    ['u16', 64], ['u16', 48], ['u32', 1 << 20], ['u32', 1], ['u16', 256], ['u16', 0], ['u32', 0], ['pad', 28],
  ])])
  const info = await h.s.ready
  assert.ok(info.granted.includes('HANDLE_KILLPRIV_V2'))
  assert.not.ok(info.granted.includes('POSIX_LOCKS') || info.granted.includes('FLOCK_LOCKS') || info.granted.includes('DONT_MASK') || info.granted.includes('WRITEBACK_CACHE'))
  assert.is(h.calls[0]![0], 'init')
  assert.equal(h.calls[0]![1], { writebackCache: false, maxWrite: 1 << 20, maxRead: 1 << 20 })
})

test('INIT: only what the kernel offers is granted; without BIG_WRITES max_write is 4 KiB', async () => {
  const h = harness({}, false)
  h.feed(initRequest(abi.FUSE_ASYNC_READ))
  assert.is(h.replies[0]!.readUInt32LE(16 + 12), abi.FUSE_ASYNC_READ)
  assert.is(h.replies[0]!.readUInt32LE(16 + 20), 4096)
  assert.equal((await h.s.ready).granted, ['ASYNC_READ'])
})

test('a request before INIT fails with EIO; a session closed before INIT rejects ready', async () => {
  const h = harness({}, false)
  h.feed(request(abi.FUSE_GETATTR, 4, 1, [['u32', 0], ['u32', 0], ['u64', 0]]))
  assert.equal(h.replies, [bytes(outHeader(16, -EIO, 4))])
  h.s.close('ENODEV')
  await h.s.ready.then(() => assert.unreachable(), (e: { code: string }) => assert.is(e.code, 'ERR_FUSE_PROTOCOL'))
})

test('LOOKUP: caller from the header, name decoded, entry_out reply', async () => {
  const h = harness({ lookup: async () => entry })
  h.feed(request(abi.FUSE_LOOKUP, 10, 1, name('file')))
  await tick()
  assert.equal(h.calls, [['lookup', { uid: 2000, gid: 3000, pid: 77 }, 1, 'file']])
  assert.equal(h.replies, [bytes([...outHeader(144, 0, 10), ['u64', 42], ['u64', 0], ['u64', 0], ['u64', 0], ['u32', 0], ['u32', 0], ...attrFields])])
})

test('an error is the 16-byte header with -errno, and onOpError hears of it', async () => {
  const h = harness({ lookup: async () => { throw new FsError(ENOENT, 'no') } })
  h.feed(request(abi.FUSE_LOOKUP, 12, 1, name('missing')))
  await tick()
  assert.equal(h.replies, [bytes(outHeader(16, -ENOENT, 12))])
  assert.equal(h.errors, [['lookup', ENOENT]])
  assert.equal(h.logs, [])
})

test('an unexpected exception becomes EIO with one log line', async () => {
  const h = harness({ getattr: () => { throw new TypeError('boom') } })
  h.feed(request(abi.FUSE_GETATTR, 14, 3, [['u32', abi.FUSE_GETATTR_FH], ['u32', 0], ['u64', 8]]))
  await tick()
  assert.equal(h.calls, [['getattr', { uid: 2000, gid: 3000, pid: 77 }, 3, 8]])
  assert.equal(h.replies, [bytes(outHeader(16, -EIO, 14))])
  assert.is(h.logs.length, 1)
  assert.match(h.logs[0]!, /unexpected error: TypeError: boom/)
})

test('an entry reply the kernel did not take (ENOENT: interrupted) is forgotten again', async () => {
  const h = harness({ lookup: async () => entry, forget: () => undefined })
  h.accept = false
  h.feed(request(abi.FUSE_LOOKUP, 16, 1, name('file')))
  await tick()
  assert.equal(h.calls.map((c) => c.slice(0, 1).concat(c.slice(-2))), [['lookup', 1, 'file'], ['forget', 42, 1]])
})

test('CREATE: flags, mode (umask already applied by the kernel) and name; entry_out + open_out; not taken: forget + release', async () => {
  const h = harness({ create: async () => ({ entry, open: { fh: 5, openFlags: abi.FOPEN_KEEP_CACHE } }), forget: () => undefined, release: async () => undefined })
  h.feed(request(abi.FUSE_CREATE, 18, 1, [['u32', 0o101101], ['u32', 0o100644], ['u32', 0o022], ['u32', 0], ...name('new')]))
  await tick()
  assert.equal(h.calls, [['create', { uid: 2000, gid: 3000, pid: 77 }, 1, 'new', 0o100644, 0o101101]])
  assert.equal(h.replies, [bytes([...outHeader(160, 0, 18), ['u64', 42], ['u64', 0], ['u64', 0], ['u64', 0], ['u32', 0], ['u32', 0], ...attrFields, ['u64', 5], ['u32', abi.FOPEN_KEEP_CACHE], ['u32', 0]])])
  h.accept = false
  h.calls.length = 0
  h.feed(request(abi.FUSE_CREATE, 20, 1, [['u32', 0], ['u32', 0o100600], ['u32', 0], ['u32', 0], ...name('other')]))
  await tick()
  assert.equal(h.calls.slice(1).map((c) => [c[0], c[1], c[2]]), [['forget', 42, 1], ['release', 5, undefined]])
})

test('SETATTR: decoded changes and the handle', async () => {
  const h = harness({ setattr: async () => ({ attr: stat, attrTimeout: 0 }) })
  h.feed(request(abi.FUSE_SETATTR, 22, 9, [['u32', abi.FATTR_SIZE | abi.FATTR_FH | abi.FATTR_ATIME | abi.FATTR_ATIME_NOW], ['u32', 0], ['u64', 4], ['u64', 100], ['pad', 64]]))
  await tick()
  assert.equal(h.calls, [['setattr', { uid: 2000, gid: 3000, pid: 77 }, 9, 4, { size: 100, atime: 'now' }]])
  assert.equal(h.replies, [bytes([...outHeader(120, 0, 22), ['u64', 0], ['u32', 0], ['u32', 0], ...attrFields])])
})

test('RENAME and RENAME2: new directory, both names, flags', async () => {
  const h = harness({ rename: async () => undefined })
  h.feed(request(abi.FUSE_RENAME, 24, 3, [['u64', 4], ...name('a'), ...name('b')]))
  h.feed(request(abi.FUSE_RENAME2, 26, 3, [['u64', 5], ['u32', 1], ['u32', 0], ...name('c'), ...name('dd')]))
  await tick()
  const c = { uid: 2000, gid: 3000, pid: 77 }
  assert.equal(h.calls, [['rename', c, 3, 'a', 4, 'b', 0], ['rename', c, 3, 'c', 5, 'dd', 1]])
  assert.equal(h.replies, [bytes(outHeader(16, 0, 24)), bytes(outHeader(16, 0, 26))])
})

test('SYMLINK (name, then target), LINK (old node in the args, new parent in the header), MKNOD, MKDIR', async () => {
  const h = harness({ symlink: async () => entry, link: async () => entry, mknod: async () => entry, mkdir: async () => entry })
  const c = { uid: 2000, gid: 3000, pid: 77 }
  h.feed(request(abi.FUSE_SYMLINK, 30, 1, [...name('ln'), ...name('../target')]))
  h.feed(request(abi.FUSE_LINK, 32, 6, [['u64', 42], ...name('hard')]))
  h.feed(request(abi.FUSE_MKNOD, 34, 1, [['u32', 0o010644], ['u32', 0x0801], ['u32', 0o022], ['u32', 0], ...name('fifo')]))
  h.feed(request(abi.FUSE_MKDIR, 36, 1, [['u32', 0o755], ['u32', 0o022], ...name('dir')]))
  await tick()
  assert.equal(h.calls, [['symlink', c, 1, 'ln', '../target'], ['link', c, 42, 6, 'hard'], ['mknod', c, 1, 'fifo', 0o010644, 0x0801], ['mkdir', c, 1, 'dir', 0o755]])
  assert.is(h.replies.length, 4)
})

test('WRITE: the data is a view of the request, valid while write() runs; write_out carries the count', async () => {
  let seen = ''
  const h = harness({ write: async (_c, fh, data, off) => { seen = `${fh}@${off}:${data.toString()}`; return data.length } })
  h.feed(request(abi.FUSE_WRITE, 40, 7, [['u64', 3], ['u64', 2 ** 32], ['u32', 5], ['u32', 0], ['u64', 0], ['u32', 0], ['u32', 0], ['str', 'hello']]))
  await tick()
  assert.is(seen, `3@${2 ** 32}:hello`)
  assert.equal(h.replies, [bytes([...outHeader(24, 0, 40), ['u32', 5], ['u32', 0]])])
  assert.is(h.s.largestWrite, 5)
})

test('READ: header and data in one reply; a count beyond the request is EIO', async () => {
  const h = harness({ read: async (_fh, into, len) => { into.write('abc'); return len === 10 ? 3 : len + 1 } })
  h.feed(request(abi.FUSE_READ, 42, 7, [['u64', 3], ['u64', 0], ['u32', 10], ['u32', 0], ['u64', 0], ['u32', 0], ['u32', 0]]))
  h.feed(request(abi.FUSE_READ, 44, 7, [['u64', 3], ['u64', 0], ['u32', 4], ['u32', 0], ['u64', 0], ['u32', 0], ['u32', 0]]))
  await tick()
  assert.equal(h.replies, [bytes([...outHeader(19, 0, 42), ['str', 'abc']]), bytes(outHeader(16, -EIO, 44))])
})

test('READDIRPLUS: the sink writes into a reply of the requested size; "." given with an entry is forgotten again', async () => {
  const h = harness({
    forget: () => undefined,
    readdirplus: async (_c, _n, _fh, off, sink) => {
      if (off !== 0n) return
      sink.add('.', 1n, 4, { ...entry, nodeid: 6 })
      sink.add('f', 2n, 8, entry)
      sink.add('g', 3n, 8, entry) // does not fit
    },
  })
  h.feed(request(abi.FUSE_READDIRPLUS, 50, 6, [['u64', 9], ['u64', 0], ['u32', 320], ['u32', 0], ['u64', 0], ['u32', 0], ['u32', 0]]))
  await tick()
  assert.is(h.replies[0]!.length, 16 + 320)
  assert.is(h.replies[0]!.readBigUInt64LE(16), 0n) // "." nodeid
  assert.is(h.replies[0]!.readBigUInt64LE(16 + 160), 42n) // "f" nodeid
  assert.equal(h.calls.filter((c) => c[0] === 'forget'), [['forget', 6, 1]])
  h.feed(request(abi.FUSE_READDIRPLUS, 52, 6, [['u64', 9], ['u64', 3], ['u32', 4096], ['u32', 0], ['u64', 0], ['u32', 0], ['u32', 0]]))
  await tick()
  assert.equal(h.replies[1], bytes(outHeader(16, 0, 52))) // end of directory: no entries
})

test('OPEN/OPENDIR reply fh and open_flags; a reply not taken releases the handle', async () => {
  const h = harness({ open: async () => ({ fh: 11, openFlags: 0 }), opendir: async () => ({ fh: 12, openFlags: 0 }), release: async () => undefined, releasedir: async () => undefined })
  h.feed(request(abi.FUSE_OPEN, 60, 7, [['u32', 0o1002], ['u32', 0]]))
  await tick()
  assert.equal(h.replies, [bytes([...outHeader(32, 0, 60), ['u64', 11], ['u32', 0], ['u32', 0]])])
  h.accept = false
  h.feed(request(abi.FUSE_OPENDIR, 62, 7, [['u32', 0], ['u32', 0]]))
  await tick()
  assert.equal(h.calls.map((c) => c[0]), ['open', 'opendir', 'releasedir'])
})

test('FORGET and BATCH_FORGET: no reply; INTERRUPT ignored', async () => {
  const h = harness({ forget: () => undefined })
  h.feed(request(abi.FUSE_FORGET, 70, 42, [['u64', 3]]))
  h.feed(request(abi.FUSE_BATCH_FORGET, 72, 0, [['u32', 2], ['u32', 0], ['u64', 42], ['u64', 1], ['u64', 43], ['u64', 2]]))
  h.feed(request(abi.FUSE_INTERRUPT, 75, 0, [['u64', 70]]))
  await tick()
  assert.equal(h.calls, [['forget', 42, 3], ['forget', 42, 1], ['forget', 43, 2]])
  assert.equal(h.replies, [])
})

test('unimplemented ops: ENOSYS (STATX, xattrs, lseek, copy_file_range, poll), EOPNOTSUPP (fallocate), ENOTTY (ioctl); not counted as op errors', async () => {
  const h = harness({})
  const ops: [number, number][] = [
    [abi.FUSE_STATX, ENOSYS], [abi.FUSE_GETXATTR, ENOSYS], [abi.FUSE_SETXATTR, ENOSYS], [abi.FUSE_LISTXATTR, ENOSYS],
    [abi.FUSE_REMOVEXATTR, ENOSYS], [abi.FUSE_LSEEK, ENOSYS], [abi.FUSE_COPY_FILE_RANGE, ENOSYS], [abi.FUSE_POLL, ENOSYS],
    [abi.FUSE_FALLOCATE, EOPNOTSUPP], [abi.FUSE_IOCTL, ENOTTY], [999, ENOSYS],
  ]
  ops.forEach(([op], i) => h.feed(request(op, 100 + 2 * i, 1, [['pad', 32]])))
  assert.equal(h.replies, ops.map(([, e], i) => bytes(outHeader(16, -e, 100 + 2 * i))))
  assert.equal(h.errors, [])
})

test('STATFS: fuse_kstatfs reply', async () => {
  const h = harness({ statfs: async () => ({ bsize: 4096, frsize: 4096, blocks: 10, bfree: 5, bavail: 4, files: 100, ffree: 50, favail: 50, fsid: 0, flag: 0, namemax: 255 }) })
  h.feed(request(abi.FUSE_STATFS, 80, 1, []))
  await tick()
  assert.equal(h.replies, [bytes([...outHeader(96, 0, 80), ['u64', 10], ['u64', 5], ['u64', 4], ['u64', 100], ['u64', 50], ['u32', 4096], ['u32', 255], ['u32', 4096], ['u32', 0], ['pad', 24]])])
})

test('notifications go to the channel once INIT handed out the notifier', () => {
  let notify: { invalEntry(p: number, n: string): void; invalInode(n: number, o: number, l: number): void } | undefined
  const h = harness({ init: (_n, k) => { notify = k } }, false)
  h.feed(initRequest())
  notify!.invalEntry(1, 'x')
  notify!.invalInode(5, 0, 0)
  assert.equal(h.notes.map((m) => m.readInt32LE(4)), [abi.FUSE_NOTIFY_INVAL_ENTRY, abi.FUSE_NOTIFY_INVAL_INODE])
  h.s.close('ENODEV')
  notify!.invalInode(5, 0, 0)
  assert.is(h.notes.length, 2)
})

// ---- locks ---------------------------------------------------------------------------------------

const EINTR = 4
const EAGAIN = 11
const OFFSET_MAX = 0x7fffffffffffffffn
const lkIn = (fh: number, owner: bigint, start: bigint, end: bigint, type: number, pid: number, flags = 0): Field[] =>
  [['u64', fh], ['u64', owner], ['u64', start], ['u64', end], ['u32', type], ['u32', pid], ['u32', flags], ['u32', 0]]

test('INIT: POSIX_LOCKS and FLOCK_LOCKS are asked for exactly as the filesystem\'s lockModes say', async () => {
  for (const [modes, names] of [[{ posix: true, flock: true }, ['POSIX_LOCKS', 'FLOCK_LOCKS']], [{ posix: true, flock: false }, ['POSIX_LOCKS']], [{ posix: false, flock: false }, []]] as const) {
    const h = harness({ lockModes: () => modes }, false)
    h.feed(initRequest())
    const granted = (await h.s.ready).granted
    assert.equal(granted.filter((g) => g === 'POSIX_LOCKS' || g === 'FLOCK_LOCKS'), [...names])
  }
})

test('GETLK: fuse_lk_in reaches the filesystem whole; fuse_lk_out carries the conflicting lock', async () => {
  const h = harness({ lockModes: () => ({ posix: true, flock: true }), getlk: async () => ({ type: 1, start: 10n, end: OFFSET_MAX, pid: 0 }) })
  h.feed(request(abi.FUSE_GETLK, 9, 42, lkIn(7, 0xfeedfacecafebeefn, 0n, 99n, 0, 1234)))
  await tick()
  assert.equal(h.calls, [['getlk', { uid: 2000, gid: 3000, pid: 77 }, 42, 7, 0xfeedfacecafebeefn, { start: 0n, end: 99n, type: 0, pid: 1234 }]])
  assert.equal(h.replies, [bytes([...outHeader(40, 0, 9), ['u64', 10n], ['u64', OFFSET_MAX], ['u32', 1], ['u32', 0]])])
})

test('SETLK / SETLKW: wait and flock come from the opcode and lk_flags; a conflict is EAGAIN', async () => {
  const seen: unknown[] = []
  const h = harness({
    lockModes: () => ({ posix: true, flock: true }),
    setlk: async (_c, _n, _fh, _o, _l, opts) => { seen.push([opts.wait, opts.flock]); if (!opts.wait) throw new FsError(EAGAIN, 'held') },
  })
  h.feed(request(abi.FUSE_SETLK, 11, 42, lkIn(7, 1n, 0n, OFFSET_MAX, 1, 50)))
  h.feed(request(abi.FUSE_SETLKW, 12, 42, lkIn(7, 1n, 0n, OFFSET_MAX, 1, 50, abi.FUSE_LK_FLOCK)))
  await tick()
  assert.equal(seen, [[false, false], [true, true]])
  assert.equal(h.replies, [bytes(outHeader(16, -EAGAIN, 11)), bytes(outHeader(16, 0, 12))])
})

test('INTERRUPT of a waiting SETLKW aborts it (EINTR); an INTERRUPT for a finished or unknown request changes nothing', async () => {
  let aborted = false
  const h = harness({
    lockModes: () => ({ posix: true, flock: false }),
    setlk: (_c, _n, _fh, _o, _l, opts) => new Promise<void>((_resolve, reject) => {
      opts.signal.addEventListener('abort', () => { aborted = true; reject(new FsError(EINTR, 'interrupted')) })
    }),
  })
  h.feed(request(abi.FUSE_SETLKW, 0x1_0000_0021, 42, lkIn(7, 1n, 0n, 9n, 1, 50)))
  h.feed(request(abi.FUSE_INTERRUPT, 0x1_0000_0030, 0, [['u64', 0x99]]))
  await tick()
  assert.not.ok(aborted)
  assert.equal(h.replies, [])
  h.feed(request(abi.FUSE_INTERRUPT, 0x1_0000_0031, 0, [['u64', 0x1_0000_0021]]))
  await tick()
  assert.ok(aborted)
  assert.equal(h.replies, [bytes(outHeader(16, -EINTR, 0x1_0000_0021))])
})

test('FLUSH passes the lock owner once locks are negotiated; RELEASE passes it only with FUSE_RELEASE_FLOCK_UNLOCK', async () => {
  const h = harness({ lockModes: () => ({ posix: true, flock: true }), flush: async () => undefined, release: async () => undefined })
  h.feed(request(abi.FUSE_FLUSH, 20, 42, [['u64', 7], ['u32', 0], ['u32', 0], ['u64', 0xabcn]]))
  h.feed(request(abi.FUSE_RELEASE, 21, 42, [['u64', 7], ['u32', 0], ['u32', 0], ['u64', 0xdefn]]))
  h.feed(request(abi.FUSE_RELEASE, 22, 42, [['u64', 8], ['u32', 0], ['u32', abi.FUSE_RELEASE_FLOCK_UNLOCK], ['u64', 0xdefn]]))
  await tick()
  assert.equal(h.calls, [['flush', 7, 0xabcn], ['release', 7, undefined], ['release', 8, 0xdefn]])
  const plain = harness({ flush: async () => undefined })
  plain.feed(request(abi.FUSE_FLUSH, 23, 42, [['u64', 7], ['u32', 0], ['u32', 0], ['u64', 0xabcn]]))
  await tick()
  assert.equal(plain.calls, [['flush', 7, undefined]])
})

test('lock requests to a filesystem without lock operations: ENOSYS', async () => {
  const h = harness({})
  h.feed(request(abi.FUSE_SETLK, 30, 42, lkIn(7, 1n, 0n, 9n, 1, 50)))
  h.feed(request(abi.FUSE_GETLK, 31, 42, lkIn(7, 1n, 0n, 9n, 1, 50)))
  assert.equal(h.replies, [bytes(outHeader(16, -ENOSYS, 30)), bytes(outHeader(16, -ENOSYS, 31))])
})

test.run()

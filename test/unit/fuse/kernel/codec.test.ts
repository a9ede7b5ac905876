// Reply encoders and request decoders of the kernel front end, byte for byte against fuse.h 7.38
// (the expectations are built field by field in wire.ts, not by the codec).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  DirentWriter, readInitIn, readName, readSetattrIn, writeAttr, writeAttrOut, writeEntryOut, writeInitOut, writeOpenOut,
  writeStatfsOut,
} from '../../../../src/fuse/kernel/codec.js'
import { encodeInvalEntry, encodeInvalInode } from '../../../../src/fuse/kernel/notifier.js'
import * as abi from '../../../../src/fuse/kernel/abi.js'
import { attrFields, bytes, name, stat, type Field } from './wire.js'

function encode(size: number, fill: (dv: DataView, buf: Buffer) => void): Buffer {
  const buf = Buffer.alloc(size, 0xee) // not zero: every byte must be written
  fill(new DataView(buf.buffer, buf.byteOffset, size), buf)
  return buf
}

const entry = { nodeid: 42, generation: 7, attr: stat, entryTimeout: 1.5, attrTimeout: 3 }

test('fuse_attr: 88 bytes in fuse.h order, ino 64-bit exact, times signed seconds + nsec', () => {
  assert.is(abi.ATTR_SIZE, 88)
  assert.equal(encode(88, (dv) => writeAttr(dv, 0, stat)), bytes(attrFields))
})

test('fuse_attr: a time before 1970 is a negative 64-bit second count', () => {
  const st = { ...stat, mtime: { seconds: -2, nseconds: 0 } }
  const out = encode(88, (dv) => writeAttr(dv, 0, st))
  assert.is(out.readBigInt64LE(32), -2n)
})

test('fuse_entry_out: nodeid, generation, timeouts as seconds + nanoseconds, then the attr', () => {
  const expected = bytes([
    ['u64', 42], ['u64', 7], // nodeid, generation
    ['u64', 1], ['u64', 3], // entry_valid, attr_valid (seconds)
    ['u32', 500_000_000], ['u32', 0], // entry_valid_nsec, attr_valid_nsec
    ...attrFields,
  ])
  assert.is(abi.ENTRY_OUT_SIZE, 128)
  assert.equal(encode(128, (dv) => writeEntryOut(dv, 0, entry)), expected)
})

test('fuse_attr_out: attr_valid, attr_valid_nsec, dummy, attr', () => {
  const expected = bytes([['u64', 0], ['u32', 0], ['u32', 0], ...attrFields])
  assert.equal(encode(104, (dv) => writeAttrOut(dv, 0, { attr: stat, attrTimeout: 0 })), expected)
})

test('fuse_open_out: fh, open_flags, padding', () => {
  const expected = bytes([['u64', 2 ** 40 + 1], ['u32', abi.FOPEN_KEEP_CACHE], ['u32', 0]])
  assert.equal(encode(16, (dv) => writeOpenOut(dv, 0, { fh: 2 ** 40 + 1, openFlags: abi.FOPEN_KEEP_CACHE })), expected)
})

test('fuse_kstatfs: blocks bfree bavail files ffree, bsize namelen frsize, padding, spare[6]', () => {
  const s = { bsize: 1 << 20, frsize: 4096, blocks: 2 ** 35, bfree: 2 ** 34, bavail: 2 ** 33, files: 1e6, ffree: 9e5, favail: 9e5, fsid: 1, flag: 0, namemax: 255 }
  const expected = bytes([
    ['u64', 2 ** 35], ['u64', 2 ** 34], ['u64', 2 ** 33], ['u64', 1e6], ['u64', 9e5],
    ['u32', 1 << 20], ['u32', 255], ['u32', 4096], ['u32', 0], ['pad', 24],
  ])
  assert.equal(encode(80, (dv) => writeStatfsOut(dv, 0, s)), expected)
})

test('fuse_init_out: 64 bytes, u16 fields where fuse.h has them, unused zeroed', () => {
  const o = { major: 7, minor: 38, maxReadahead: 131072, flags: 0x80000001, maxBackground: 64, congestionThreshold: 48, maxWrite: 1 << 20, timeGran: 1, maxPages: 256, flags2: 0 }
  const expected = bytes([
    ['u32', 7], ['u32', 38], ['u32', 131072], ['u32', 0x80000001],
    ['u16', 64], ['u16', 48], ['u32', 1 << 20], ['u32', 1], ['u16', 256], ['u16', 0], ['u32', 0], ['pad', 28],
  ])
  assert.equal(encode(64, (dv) => writeInitOut(dv, 0, o)), expected)
})

test('fuse_init_in: flags2 read only with FUSE_INIT_EXT; a pre-7.36 16-byte INIT decodes too', () => {
  const ext = bytes([['u32', 7], ['u32', 45], ['u32', 131072], ['u32', abi.FUSE_INIT_EXT | abi.FUSE_ASYNC_READ], ['u32', 0x1f], ['pad', 44]])
  const dv = (b: Buffer): DataView => new DataView(b.buffer, b.byteOffset, b.length)
  assert.equal(readInitIn(dv(ext), 0, 64), { major: 7, minor: 45, maxReadahead: 131072, flags: abi.FUSE_INIT_EXT | abi.FUSE_ASYNC_READ, flags2: 0x1f })
  const noExt = bytes([['u32', 7], ['u32', 45], ['u32', 4096], ['u32', abi.FUSE_ASYNC_READ], ['u32', 0x1f], ['pad', 44]])
  assert.is(readInitIn(dv(noExt), 0, 64).flags2, 0)
  const old = bytes([['u32', 7], ['u32', 31], ['u32', 4096], ['u32', 1]])
  assert.equal(readInitIn(dv(old), 0, 16), { major: 7, minor: 31, maxReadahead: 4096, flags: 1, flags2: 0 })
  assert.throws(() => readInitIn(dv(old), 0, 12), /INIT of 12/)
})

test('fuse_setattr_in: each FATTR bit to its SetAttrs field; NOW wins over the time; CTIME and LOCKOWNER ignored', () => {
  const fields: Field[] = [
    ['u32', abi.FATTR_MODE | abi.FATTR_UID | abi.FATTR_GID | abi.FATTR_SIZE | abi.FATTR_ATIME | abi.FATTR_MTIME | abi.FATTR_MTIME_NOW |
      abi.FATTR_FH | abi.FATTR_KILL_SUIDGID | abi.FATTR_CTIME | abi.FATTR_LOCKOWNER],
    ['u32', 0], // padding
    ['u64', 99], // fh
    ['u64', 2 ** 33], // size
    ['u64', 12345], // lock_owner
    ['i64', 1_000_000_000], ['i64', 2_000_000_000], ['i64', 3], // atime, mtime, ctime
    ['u32', 250], ['u32', 350], ['u32', 450], // atimensec, mtimensec, ctimensec
    ['u32', 0o104755], ['u32', 0], ['u32', 1001], ['u32', 1002], ['u32', 0], // mode, unused4, uid, gid, unused5
  ]
  const b = bytes(fields)
  assert.is(b.length, abi.SETATTR_IN_SIZE)
  const r = readSetattrIn(new DataView(b.buffer, b.byteOffset, b.length), 0, b.length)
  assert.is(r.fh, 99)
  assert.equal(r.set, { mode: 0o104755, uid: 1001, gid: 1002, size: 2 ** 33, atime: { seconds: 1_000_000_000, nseconds: 250 }, mtime: 'now', killSuidGid: true })
})

test('fuse_setattr_in: nothing valid is an empty change without a handle; times outside nfstime3 are clamped', () => {
  const b = bytes([['u32', abi.FATTR_ATIME | abi.FATTR_MTIME], ['u32', 0], ['u64', 5], ['u64', 0], ['u64', 0], ['i64', -5], ['i64', 2 ** 33], ['i64', 0], ['u32', 7], ['u32', 8], ['u32', 0], ['pad', 20]])
  const r = readSetattrIn(new DataView(b.buffer, b.byteOffset, b.length), 0, b.length)
  assert.is(r.fh, undefined)
  assert.equal(r.set, { atime: { seconds: 0, nseconds: 0 }, mtime: { seconds: 0xffffffff, nseconds: 0 } })
  const none = Buffer.alloc(88)
  assert.equal(readSetattrIn(new DataView(none.buffer, none.byteOffset, 88), 0, 88), { fh: undefined, set: {} })
})

test('names: NUL-terminated within the request, else EINVAL', () => {
  const b = bytes([...name('old'), ...name('new')])
  const first = readName(b, 0, b.length)
  assert.equal(first, { name: 'old', next: 4 })
  assert.equal(readName(b, first.next, b.length), { name: 'new', next: 8 })
  assert.throws(() => readName(b, 0, 3), (e: { code: string; errno: number }) => e.code === 'ERR_FUSE_REQUEST' && e.errno === 22)
  assert.throws(() => readName(Buffer.from([0]), 0, 1), /empty name/)
})

test('direntplus: entry_out + dirent, padded to 8; "." with nodeid 0 and its ino; full buffer refuses the next', () => {
  const size = 152 + 8 + 152 + 8 // "." (1 byte name) and "file" (4) each round to 160
  const buf = Buffer.alloc(size, 0xee)
  const sink = new DirentWriter(buf, new DataView(buf.buffer, buf.byteOffset, size), 0, size, true, 99n)
  assert.ok(sink.add('.', 1n, 4, undefined, 77n))
  assert.ok(sink.add('file', 2n, 8, entry))
  assert.not.ok(sink.add('x', 3n, 8, entry))
  const expected = bytes([
    ['pad', 128], // entry_out of ".": nodeid 0, no attributes
    ['u64', 77], ['u64', 1], ['u32', 1], ['u32', 4], ['str', '.'], ['pad', 7],
    ['u64', 42], ['u64', 7], ['u64', 1], ['u64', 3], ['u32', 500_000_000], ['u32', 0], ...attrFields,
    ['u64', stat.ino], ['u64', 2], ['u32', 4], ['u32', 8], ['str', 'file'], ['pad', 4],
  ])
  assert.equal(buf.subarray(0, sink.pos), expected)
  assert.equal(sink.counted, [42])
  assert.equal(sink.uncounted, [])
})

test('direntplus: an entry given for ".." or the root goes out with nodeid 0 and is to be forgotten; d_ino never 0', () => {
  const buf = Buffer.alloc(4096)
  const sink = new DirentWriter(buf, new DataView(buf.buffer), 0, 4096, true, 99n)
  sink.add('..', 1n, 4, { ...entry, nodeid: 5 })
  sink.add('r', 2n, 4, { ...entry, nodeid: abi.FUSE_ROOT_ID })
  sink.add('noattr', 3n, 8, undefined)
  assert.is(buf.readBigUInt64LE(0), 0n)
  assert.equal(sink.uncounted, [5, 1])
  assert.equal(sink.counted, [])
  const third = 160 + 160
  assert.is(buf.readBigUInt64LE(third + 128), 99n) // the stand-in ino
})

test('plain dirent: 24 bytes + name, padded; every entry the filesystem counted is to be forgotten', () => {
  const buf = Buffer.alloc(64, 0xee)
  const sink = new DirentWriter(buf, new DataView(buf.buffer), 0, 64, false, 9n)
  assert.ok(sink.add('abcdefghi', 5n, 8, entry))
  assert.equal(buf.subarray(0, sink.pos), bytes([['u64', stat.ino], ['u64', 5], ['u32', 9], ['u32', 8], ['str', 'abcdefghi'], ['pad', 7]]))
  assert.equal(sink.uncounted, [42])
  sink.sealed = true
  assert.not.ok(sink.add('late', 6n, 8, undefined))
})

test('notify messages: unique 0, error = the notify code, INVAL_ENTRY name NUL-terminated', () => {
  assert.equal(encodeInvalInode(12, -1, 0), bytes([['u32', 40], ['i32', abi.FUSE_NOTIFY_INVAL_INODE], ['u64', 0], ['u64', 12], ['i64', -1], ['i64', 0]]))
  assert.equal(encodeInvalEntry(3, 'näme'), bytes([['u32', 38], ['i32', abi.FUSE_NOTIFY_INVAL_ENTRY], ['u64', 0], ['u64', 3], ['u32', 5], ['u32', 0], ...name('näme')]))
  assert.is(encodeInvalEntry(3, 'x'.repeat(256)), undefined)
})

test('abi: values the protocol fixes', () => {
  assert.is(abi.FUSE_INIT_RESERVED, 2 ** 31)
  assert.is(abi.FUSE_STATX, 52)
  assert.is(abi.DIRENTPLUS_SIZE, 152)
  assert.equal(abi.flagNames(abi.FUSE_ASYNC_READ | abi.FUSE_INIT_EXT | abi.FUSE_INIT_RESERVED, abi.INIT_FLAG_NAMES), ['ASYNC_READ', 'INIT_EXT', 'INIT_RESERVED'])
  assert.equal(abi.flagNames(0x500, abi.INIT_FLAG2_NAMES), ['0x500'])
})

test.run()

// Call arguments that cannot go on the wire throw XdrEncodeError (code ERR_XDR_ENCODE) before anything
// is sent: RFC bounds (nfs_fh3 <= 64 bytes, gids<16>, machinename<255>, dirpath<1024>), this client's
// 4096-byte bound on names and symlink targets (counted in UTF-8 bytes, not characters), and integers
// out of range. Values exactly at each bound are accepted.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { XdrCodec, XdrEncodeError, type XdrEncodeReason } from '../../../src/xdr/index.js'
import type { AuthSys } from '../../../src/xdr/types.js'
import { LOOKUP_CALL } from '../../vectors/nfs3.js'

const codec = XdrCodec.load()
const fh = Buffer.alloc(32, 1)
const fh64 = Buffer.alloc(64, 2)
const fh65 = Buffer.alloc(65, 3)
const cred = (over: Partial<AuthSys> = {}): AuthSys => ({ stamp: 1, machine: 'host', uid: 1, gid: 1, gids: [], ...over })

function throwsEncode(reason: XdrEncodeReason, fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    assert.instance(err, XdrEncodeError)
    const e = err as XdrEncodeError
    assert.is(e.code, 'ERR_XDR_ENCODE')
    assert.is(e.name, 'XdrEncodeError')
    assert.is(e.reason, reason)
    return
  }
  assert.unreachable(`expected XdrEncodeError ${reason}`)
}

test('file handles over 64 bytes, in every position', () => {
  throwsEncode('fh-too-long', () => codec.getattr(1, null, fh65))
  throwsEncode('fh-too-long', () => codec.lookup(1, null, fh65, 'a'))
  throwsEncode('fh-too-long', () => codec.rename(1, null, fh, 'a', fh65, 'b'))
  throwsEncode('fh-too-long', () => codec.link(1, null, fh, fh65, 'a'))
  throwsEncode('fh-too-long', () => codec.writeHeader(1, null, fh65, 0, 1, 0, 1))
  assert.is(codec.getattr(1, null, fh64).readUInt32BE(44), 64)
})

test('more than 16 gids', () => {
  const gids = Array.from({ length: 17 }, (_, i) => i)
  throwsEncode('too-many-gids', () => codec.getattr(1, cred({ gids }), fh))
  throwsEncode('too-many-gids', () => codec.mntMnt(1, cred({ gids }), '/'))
  assert.ok(codec.getattr(1, cred({ gids: gids.slice(0, 16) }), fh).length > 0)
})

test('machinename over 255 bytes (UTF-8)', () => {
  throwsEncode('machine-too-long', () => codec.getattr(1, cred({ machine: 'm'.repeat(256) }), fh))
  throwsEncode('machine-too-long', () => codec.getattr(1, cred({ machine: 'é'.repeat(128) }), fh))
  assert.ok(codec.getattr(1, cred({ machine: 'm'.repeat(255) }), fh).length > 0)
})

test('names and symlink targets over 4096 UTF-8 bytes', () => {
  const ok = 'n'.repeat(4096)
  const long = 'n'.repeat(4097)
  const wide = 'é'.repeat(2049) // 2049 characters, 4098 bytes
  throwsEncode('name-too-long', () => codec.lookup(1, null, fh, long))
  throwsEncode('name-too-long', () => codec.lookup(1, null, fh, wide))
  throwsEncode('name-too-long', () => codec.rename(1, null, fh, 'a', fh, long))
  throwsEncode('name-too-long', () => codec.symlink(1, null, fh, 'a', {}, long))
  throwsEncode('name-too-long', () => codec.create(1, null, fh, wide, { mode: 0, attrs: {} }))
  assert.is(codec.lookup(1, null, fh, ok).readUInt32BE(80), 4096)
  assert.ok(codec.symlink(1, null, fh, ok, {}, 'é'.repeat(2048)).length > 8192)
})

test('dirpath over 1024 bytes (MNTPATHLEN)', () => {
  throwsEncode('name-too-long', () => codec.mntMnt(1, null, '/'.repeat(1025)))
  throwsEncode('name-too-long', () => codec.mntUmnt(1, null, '/'.repeat(1025)))
  assert.ok(codec.mntMnt(1, null, '/'.repeat(1024)).length > 1024)
})

test('integers out of range', () => {
  throwsEncode('bad-integer', () => codec.getattr(-1, null, fh))
  throwsEncode('bad-integer', () => codec.getattr(2 ** 32, null, fh))
  throwsEncode('bad-integer', () => codec.getattr(1.5, null, fh))
  throwsEncode('bad-integer', () => codec.read(1, null, fh, -1, 1))
  throwsEncode('bad-integer', () => codec.read(1, null, fh, 0.5, 1))
  throwsEncode('bad-integer', () => codec.read(1, null, fh, 2 ** 53 + 2, 1))
  throwsEncode('bad-integer', () => codec.read(1, null, fh, Number.NaN, 1))
  throwsEncode('bad-integer', () => codec.read(1, null, fh, 0, 2 ** 32))
  throwsEncode('bad-integer', () => codec.commit(1, null, fh, 0, -1))
  throwsEncode('bad-integer', () => codec.writeHeader(1, null, fh, 0, 1, 0, -1))
  throwsEncode('bad-integer', () => codec.setattr(1, null, fh, { size: -1 }))
  throwsEncode('bad-integer', () => codec.setattr(1, null, fh, { mode: 2 ** 32 }))
  throwsEncode('bad-integer', () => codec.setattr(1, null, fh, {}, { seconds: -1, nseconds: 0 }))
  throwsEncode('bad-integer', () => codec.getattr(1, cred({ uid: -2 }), fh))
  throwsEncode('bad-integer', () => codec.getattr(1, cred({ gids: [1, 2 ** 32] }), fh))
  throwsEncode('bad-integer', () => codec.readdirplus(1, null, fh, -1n, Buffer.alloc(8), 1, 1))
  throwsEncode('bad-integer', () => codec.readdirplus(1, null, fh, 1n << 64n, Buffer.alloc(8), 1, 1))
  assert.ok(codec.read(1, null, fh, 2 ** 53, 0xffffffff).length > 0)
})

test('verifiers must be 8 bytes; ftype3 and createmode3 must exist', () => {
  throwsEncode('bad-verifier', () => codec.readdirplus(1, null, fh, 0n, Buffer.alloc(7), 1, 1))
  throwsEncode('bad-verifier', () => codec.create(1, null, fh, 'a', { mode: 2, verf: Buffer.alloc(9) }))
  throwsEncode('bad-type', () => codec.mknod(1, null, fh, 'a', 99, {}))
  throwsEncode('bad-type', () => codec.mknod(1, null, fh, 'a', 4, {}))
  throwsEncode('bad-type', () => codec.create(1, null, fh, 'a', { mode: 5 } as never))
})

test('a failed encode leaves nothing behind for the next call', () => {
  throwsEncode('fh-too-long', () => codec.rename(1, null, fh, 'partly written', fh65, 'b'))
  const v = LOOKUP_CALL
  assert.is(v.encode(codec, v.expected).toString('hex'), v.wire.toString('hex'))
})

test.run()

// AttrCache: reuse within the bound only, per caller, and never a reply older than a drop.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { AttrCache } from '../../../src/fuse/attr-cache.js'
import type { Fattr3 } from '../../../src/xdr/types.js'

const t = { seconds: 1, nseconds: 0 }
const attr = (size: number): Fattr3 => ({ type: 1, mode: 0o644, nlink: 1, uid: 1, gid: 1, size, used: size, rdevMajor: 0, rdevMinor: 0, fsid: 1, fileid: 7n, atime: t, mtime: t, ctime: t })
const FH = Buffer.from('fh')
const alice = {}
const bob = {}

test('an entry answers within the bound and not after it', async () => {
  const c = new AttrCache(30)
  c.set(alice, '/a', FH, attr(1))
  assert.is(c.get(alice, '/a')?.attr.size, 1)
  await new Promise((r) => setTimeout(r, 45))
  assert.is(c.get(alice, '/a'), undefined)
})

test('entries are per caller: what alice was told is not handed to bob', () => {
  const c = new AttrCache(1000)
  c.set(alice, '/a', FH, attr(1))
  assert.is(c.get(bob, '/a'), undefined)
})

test('a reply asked for before a drop is not stored (it may predate the change)', () => {
  const c = new AttrCache(1000)
  const since = c.generation()
  c.forget('/other')
  c.set(alice, '/a', FH, attr(1), since)
  assert.is(c.get(alice, '/a'), undefined)
  c.set(alice, '/a', FH, attr(2), c.generation())
  assert.is(c.get(alice, '/a')?.attr.size, 2)
})

test('forgetTree drops a subtree, forgetHandle every name of a handle, bound 0 stores nothing', () => {
  const c = new AttrCache(1000)
  for (const p of ['/d', '/d/x', '/d/y/z', '/dd']) c.set(alice, p, Buffer.from(p), attr(1))
  c.set(alice, '/link', Buffer.from('/d/x'), attr(1))
  c.forgetTree('/d')
  assert.equal(['/d', '/d/x', '/d/y/z', '/dd', '/link'].map((p) => c.get(alice, p) !== undefined), [false, false, false, true, true])
  c.forgetHandle(Buffer.from('/d/x'))
  assert.is(c.get(alice, '/link'), undefined)
  const off = new AttrCache(0)
  off.set(alice, '/a', FH, attr(1))
  assert.is(off.get(alice, '/a'), undefined)
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { IdentityMap, GroupCache, parseGroups, parseId, checkRootReadable, IdentityError, ForeignCallerError } from '../../../src/identity/index.js'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const caller = { uid: 2000, gid: 2000, pid: 1 }

test('mapped: outbound credential is U/G with gids [G], whoever calls', async () => {
  const m = new IdentityMap({ kind: 'mapped', uid: 1234, gid: 1235 })
  const c = await m.credentialFor(caller)
  assert.is(c.auth.uid, 1234)
  assert.is(c.auth.gid, 1235)
  assert.equal([...c.auth.gids], [1235])
  const other = await m.credentialFor({ uid: 3000, gid: 3000, pid: 2 })
  assert.is(other.auth.uid, 1234)
})

test('mapped: inbound map shows U/G as the caller by default, or as fixed local ids', async () => {
  const m = new IdentityMap({ kind: 'mapped', uid: 1234, gid: 1235 })
  assert.equal((await m.credentialFor(caller)).map, { serverUid: 1234, serverGid: 1235, localUid: 2000, localGid: 2000 })
  assert.equal((await m.credentialFor({ uid: 3000, gid: 3001, pid: 5 })).map, { serverUid: 1234, serverGid: 1235, localUid: 3000, localGid: 3001 })
  const fixed = new IdentityMap({ kind: 'mapped', uid: 1234, gid: 1235, localUid: 2000, localGid: 2001 })
  assert.equal((await fixed.credentialFor({ uid: 0, gid: 0, pid: 9 })).map, { serverUid: 1234, serverGid: 1235, localUid: 2000, localGid: 2001 })
})

test('chown to the local identity is sent as U/G; other ids and -1 pass', () => {
  const m = new IdentityMap({ kind: 'mapped', uid: 1234, gid: 1235 })
  assert.equal(m.toServerOwner(2000, 2000, caller), { uid: 1234, gid: 1235 })
  assert.equal(m.toServerOwner(4321, 2000, caller), { uid: 4321, gid: 1235 })
  assert.equal(m.toServerOwner(0xffffffff, 2000, caller), { gid: 1235 })
  assert.equal(m.toServerOwner(2000, 0xffffffff, caller), { uid: 1234 })
  const p = new IdentityMap({ kind: 'passthrough' })
  assert.equal(p.toServerOwner(2000, 2000, caller), { uid: 2000, gid: 2000 })
})

test('exclusive mapped mount: only the local uid and root get the credential; others are refused with EACCES', async () => {
  const m = new IdentityMap({ kind: 'mapped', uid: 1234, gid: 1234, localUid: 2000, localGid: 2000, exclusive: true })
  assert.is((await m.credentialFor({ uid: 2000, gid: 2000, pid: 1 })).auth.uid, 1234)
  assert.is((await m.credentialFor({ uid: 0, gid: 0, pid: 1 })).auth.uid, 1234)
  const err = await m.credentialFor({ uid: 3000, gid: 2000, pid: 1 }).catch((e: unknown) => e)
  assert.instance(err, ForeignCallerError)
  assert.is((err as ForeignCallerError).errno, 13)
  const open = new IdentityMap({ kind: 'mapped', uid: 1234, gid: 1234, localUid: 2000 })
  assert.is((await open.credentialFor({ uid: 3000, gid: 3000, pid: 1 })).auth.uid, 1234)
})

test('passthrough: the caller\'s own ids and supplementary groups, no rewrite', async () => {
  const root = mkdtempSync(join(tmpdir(), 'mapnfs-proc-'))
  mkdirSync(join(root, '77'))
  writeFileSync(join(root, '77', 'status'), 'Name:\tx\nUid:\t2000\t2000\t2000\t2000\nGroups:\t2000 44 55 \n')
  const m = new IdentityMap({ kind: 'passthrough' }, new GroupCache(root))
  const c = await m.credentialFor({ uid: 2000, gid: 2000, pid: 77 })
  assert.is(c.auth.uid, 2000)
  assert.equal([...c.auth.gids], [2000, 44, 55])
  assert.is(c.map, null)
  const gone = await m.credentialFor({ uid: 3000, gid: 3001, pid: 999999 })
  assert.equal([...gone.auth.gids], [])
  assert.is(gone.auth.gid, 3001)
})

test('groups: primary first, at most 16, no duplicates, never an implicit 0', () => {
  assert.equal(parseGroups(' 5 6 5 ', 5), [5, 6])
  const many = Array.from({ length: 40 }, (_, i) => i + 100).join(' ')
  const g = parseGroups(many, 7)
  assert.is(g.length, 16)
  assert.is(g[0], 7)
  assert.not.ok(parseGroups('', 9).includes(0))
})

test('uid/gid validation: the texts users know', () => {
  for (const bad of ['0', '-1', '1.5', 'abc', '', '4294967295']) {
    assert.throws(() => parseId('uid', bad), (e: unknown) => e instanceof IdentityError && e.message === "Invalid 'uid' option (0, negative, or non-integer)")
  }
  assert.throws(() => parseId('gid', '0'), /Invalid 'gid' option \(0, negative, or non-integer\)/)
  assert.is(parseId('uid', '1234'), 1234)
  assert.throws(() => new IdentityMap({ kind: 'mapped', uid: 0, gid: 5 }), /Invalid 'uid'/)
  assert.throws(() => new IdentityMap({ kind: 'mapped', uid: 5, gid: 0 }), /Invalid 'gid'/)
})

test('root read check: owner, group, world, and leniency for nobody', () => {
  const refuse = /user lacks read access to share/
  assert.throws(() => checkRootReadable({ uid: 99, gid: 99, mode: 0o700 }, 1234, 1234), refuse)
  assert.throws(() => checkRootReadable({ uid: 1234, gid: 99, mode: 0o070 }, 1234, 1234), refuse)
  checkRootReadable({ uid: 1234, gid: 99, mode: 0o400 }, 1234, 1234)
  checkRootReadable({ uid: 99, gid: 1234, mode: 0o040 }, 1234, 1234)
  checkRootReadable({ uid: 99, gid: 99, mode: 0o004 }, 1234, 1234)
  checkRootReadable({ uid: 65534, gid: 99, mode: 0o700 }, 1234, 1234)
  checkRootReadable({ uid: 4294967294, gid: 99, mode: 0o700 }, 1234, 1234)
})

test.run()

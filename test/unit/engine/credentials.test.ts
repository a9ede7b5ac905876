// Credential interning for the pooled engine: each distinct credential is defined once per worker
// and then sent as an id; the table is bounded and tells workers what it evicts.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CredentialTable, type WireCredential } from '../../../src/engine/credentials.js'
import type { CallCredential } from '../../../src/proto/nfs3/index.js'

const cred = (uid: number, gids = [uid]): CallCredential => ({ auth: { stamp: 7, machine: 'm', uid, gid: uid, gids }, map: null })

function harness(max?: number) {
  const t = new CredentialTable(max)
  const defs: [number, WireCredential][] = []
  const drops: [number, number][] = []
  const idFor = (c: CallCredential, w: number): number => t.idFor(c, w, (d) => defs.push([w, d]), (wi, id) => drops.push([wi, id]))
  return { t, defs, drops, idFor }
}

test('a credential is defined once per worker, then referred to by its id', () => {
  const h = harness()
  const a = cred(1000)
  const id = h.idFor(a, 0)
  for (let i = 0; i < 10; i++) assert.is(h.idFor(a, 0), id)
  assert.equal(h.defs, [[0, [id, a.auth, null]]])
  assert.is(h.idFor(a, 1), id, 'same id in every worker')
  assert.is(h.defs.length, 2, 'defined once more, for worker 1')
})

test('a new object with the same contents (multi-user mounts make one per pid) gets the same id, no new definition', () => {
  const h = harness()
  const id = h.idFor(cred(1000), 0)
  assert.is(h.idFor(cred(1000), 0), id)
  assert.is(h.defs.length, 1)
  const other = h.idFor(cred(1000, [1000, 50]), 0)
  assert.is.not(other, id, 'other groups: another credential')
  const mapped: CallCredential = { auth: cred(1000).auth, map: { serverUid: 1000, serverGid: 1000, localUid: 2000, localGid: 2000 } }
  assert.is.not(h.idFor(mapped, 0), id, 'another inbound map: another credential')
})

test('beyond its bound the table evicts the oldest and tells the workers that knew it', () => {
  const h = harness(2)
  const a = h.idFor(cred(1), 0)
  h.idFor(cred(1), 1)
  const b = h.idFor(cred(2), 0)
  h.idFor(cred(3), 1)
  assert.equal(h.drops.sort(), [[0, a], [1, a]], 'a evicted from both workers that held it')
  assert.is(h.t.size, 2)
  const again = h.idFor(cred(1), 0)
  assert.is.not(again, a, 'an evicted credential comes back under a fresh id')
  assert.ok(h.defs.some(([w, d]) => w === 0 && d[0] === again), 'and is defined again')
  assert.ok(b > 0)
})

test('a worker that is gone holds nothing: credentials are defined again if it were to come back', () => {
  const h = harness()
  h.idFor(cred(5), 3)
  h.t.forgetWorker(3)
  h.idFor(cred(5), 3)
  assert.is(h.defs.length, 2)
})

test.run()

// The host's NSM state across runs and boots, and the lock journal a killed daemon leaves behind.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hostStatus, rememberServer } from '../../../src/locks/nsm.js'
import { LockJournal } from '../../../src/locks/lock-journal.js'

function bootFile(id: string): string {
  const d = mkdtempSync(join(tmpdir(), 'mapnfs-boot-'))
  writeFileSync(join(d, 'boot_id'), `${id}\n`)
  return join(d, 'boot_id')
}

test('NSM state: 1 on the first run, the same for the rest of the boot, +2 after a reboot with the servers to tell', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mapnfs-nsm-'))
  const boot1 = bootFile('boot-1')
  assert.equal(hostStatus(dir, boot1), { state: 1, rebooted: false, servers: [], bootId: 'boot-1' })
  rememberServer(dir, '10.0.0.5', boot1)
  rememberServer(dir, '10.0.0.5', boot1)
  rememberServer(dir, 'nfs.example', boot1)
  assert.equal(hostStatus(dir, boot1), { state: 1, rebooted: false, servers: ['10.0.0.5', 'nfs.example'], bootId: 'boot-1' })
  const boot2 = bootFile('boot-2')
  assert.equal(hostStatus(dir, boot2), { state: 3, rebooted: true, servers: ['10.0.0.5', 'nfs.example'], bootId: 'boot-2' })
  // Told once: the next mount of the same boot does not notify again.
  assert.equal(hostStatus(dir, boot2).rebooted, false)
})

test('NSM state: a damaged state file starts over at 1 rather than failing the mount', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mapnfs-nsm-'))
  writeFileSync(join(dir, 'nsm-state.json'), '{"state": "x"')
  assert.equal(hostStatus(dir, bootFile('b')), { state: 1, rebooted: false, servers: [], bootId: 'b' })
})

test('journal: written and read back; a malformed one is an error the caller can log; remove is idempotent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mapnfs-journal-'))
  const j = new LockJournal(join(dir, 'mounts', 'm.json'))
  assert.is(j.read(), undefined)
  const state = { host: '10.0.0.5', callerName: 'cell-1', locks: [{ fh: 'abcd', oh: '0011', svid: 3, offset: '0', len: '0', uid: 1234, gid: 1234 }] }
  j.update(state)
  await j.settled()
  assert.equal(j.read(), state)
  writeFileSync(j.path, JSON.stringify({ ...state, locks: [{ ...state.locks[0], offset: '-1' }] }))
  assert.throws(() => j.read(), /malformed entry/)
  writeFileSync(j.path, '[]')
  assert.throws(() => j.read(), /not a journal/)
  j.remove()
  j.remove()
  assert.is(j.read(), undefined)
})

test.run()

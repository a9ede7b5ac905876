// The daemon's state file: written whole (temp file + rename), mode 0600, read back as written,
// and anything that is not a mapnfs state is one clear StateError, never a crash or a silent reset.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadState, saveState, StateError } from '../../../src/serve/state-file.js'

const dir = mkdtempSync(join(tmpdir(), 'mapnfs-state-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

test('a missing file is an empty state; a saved state reads back, 0600, no temp file left', () => {
  const path = join(dir, 'sub', 'state.json')
  assert.equal(loadState(path), { volumes: {} })
  const state = { volumes: { v1: { opts: { source: 'h:/e', uid: '1234', gid: '1234' }, createdAt: '2026-12-01T00:00:00.000Z', mountedBy: ['a', 'b'], device: { device: '0:52', fstype: 'fuse.mapnfs', source: 'h:/e' } } } }
  saveState(path, state)
  assert.equal(loadState(path), state)
  assert.is(statSync(path).mode & 0o777, 0o600)
  assert.is(statSync(join(dir, 'sub')).mode & 0o777, 0o700)
  assert.equal(readdirSync(join(dir, 'sub')), ['state.json'])
  // Saved again over a file someone made world-readable: the new file is 0600 again.
  writeFileSync(path, readFileSync(path), { mode: 0o644 })
  saveState(path, { volumes: {} })
  assert.is(statSync(path).mode & 0o777, 0o600)
  assert.equal(loadState(path), { volumes: {} })
})

test('what is not a mapnfs state is one clear error', () => {
  const cases: [string, RegExp][] = [
    ['{', /is not valid JSON \(move it away to start empty\)$/],
    ['[]', /is not a mapnfs state \(version undefined, expected 1\)$/],
    ['{"version": 2, "volumes": {}}', /version 2, expected 1/],
    ['{"version": 1}', /no volumes/],
    ['{"version": 1, "volumes": {"v": {"opts": {"uid": 5}, "mountedBy": []}}}', /volume v option uid/],
    ['{"version": 1, "volumes": {"v": {"opts": {}}}}', /volume v\)$/],
  ]
  for (const [text, re] of cases) {
    const path = join(dir, 'bad.json')
    writeFileSync(path, text)
    assert.throws(() => loadState(path), (e: unknown) => e instanceof StateError && re.test(e.message), text)
  }
  // A bad device is dropped, not trusted (it names mounts to replace in other namespaces).
  const path = join(dir, 'dev.json')
  for (const device of ['"0:52"', '{"device": "../x", "fstype": "fuse.mapnfs", "source": "h:/e"}', '{"device": "0:52", "source": "h:/e"}']) {
    writeFileSync(path, `{"version": 1, "volumes": {"v": {"opts": {}, "mountedBy": [], "device": ${device}}}}`)
    assert.is(loadState(path).volumes.v!.device, undefined, device)
  }
})

test('an unwritable place is a StateError naming the file', () => {
  assert.throws(() => saveState('/proc/mapnfs-state.json', { volumes: {} }), (e: unknown) => e instanceof StateError && /^cannot write the state file \/proc\/mapnfs-state.json: /.test(e.message))
})

test.run()

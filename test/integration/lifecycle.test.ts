// The foreground lifecycle: one readiness line on stdout, then SIGINT, SIGTERM or `mapnfs unmount`
// each end the mount with exit code 0 and nothing left in /proc/mounts.
import * as assert from 'uvu/assert'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FUSE_READAHEAD_KIB, readAheadFile } from '../../src/fuse/readahead-window.js'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { mountCli, mountCount, mountedLine, requireCli, runCli, shAs } from '../fixtures/mount.js'
import { assertCleanFailure } from '../fixtures/expect.js'
import { fixtureSuite } from '../fixtures/suite.js'

interface Ctx { g: Ganesha; exp: string }

const s = fixtureSuite<Ctx>('mount lifecycle', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  return { g, exp }
})

const opts = (g: Ganesha): string[] => ['-o', `uid=1234,gid=1234,${portOptions(g)}`]

s.test('stdout is exactly the readiness line; SIGTERM exits 0 and unmounts', async ({ g, exp }) => {
  const mnt = makeMountpoint()
  const m = await mountCli(nfsSource(exp), mnt, opts(g))
  assert.is(m.stdout(), mountedLine(nfsSource(exp), mnt) + '\n')
  assert.is(mountCount(mnt), 1)
  const u = await m.unmount()
  assert.is(u.code, 0, u.stderr)
  assert.is(mountCount(mnt), 0)
})

s.test('the mount gets a 512 KiB kernel readahead window (its own bdi), gone with the mount', async ({ g, exp }) => {
  const mnt = makeMountpoint()
  const m = await mountCli(nfsSource(exp), mnt, opts(g))
  let file = ''
  try {
    file = await readAheadFile(mnt)
    // The same device as /proc/self/mountinfo names for this mount point.
    const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === mnt)!
    assert.is(file, `/sys/class/bdi/${line.split(' ')[2]}/read_ahead_kb`)
    assert.is(readFileSync(file, 'utf8').trim(), String(FUSE_READAHEAD_KIB))
    assert.is(FUSE_READAHEAD_KIB, 512)
  } finally {
    const u = await m.unmount()
    assert.is(u.code, 0, u.stderr)
  }
  assert.not.ok(existsSync(file), `${file} outlived the mount`)
})

s.test('SIGINT exits 0 and unmounts', async ({ g, exp }) => {
  const mnt = makeMountpoint()
  const m = await mountCli(nfsSource(exp), mnt, opts(g))
  try {
    m.kill('SIGINT')
    const e = await m.exited
    assert.equal(e, { code: 0, signal: null }, m.stderr())
    assert.is(mountCount(mnt), 0)
  } finally {
    await m.unmount() // exited by now: checks nothing is left mounted, cleans up otherwise
  }
})

s.test('mapnfs unmount MOUNTPOINT ends the mount; the mount process exits 0', async ({ g, exp }) => {
  const mnt = makeMountpoint()
  const m = await mountCli(nfsSource(exp), mnt, opts(g))
  try {
    await shAs(2000, 2000, `printf x > ${join(mnt, 'x.txt')}`)
    const r = await runCli(['unmount', mnt])
    assert.is(r.code, 0, r.stderr)
    const e = await m.exited
    assert.equal(e, { code: 0, signal: null }, m.stderr())
    assert.is(mountCount(mnt), 0)
  } finally {
    await m.unmount()
  }
})

s.test('mapnfs unmount of something not mounted fails cleanly', async () => {
  const mnt = makeMountpoint()
  assertCleanFailure(await runCli(['unmount', mnt]), mnt)
})

s.test('the same mount point can be mounted again after an unmount', async ({ g, exp }) => {
  const mnt = makeMountpoint()
  for (let i = 0; i < 2; i++) {
    const m = await mountCli(nfsSource(exp), mnt, opts(g))
    const u = await m.unmount()
    assert.is(u.code, 0, u.stderr)
  }
  assert.is(mountCount(mnt), 0)
})

s.run()

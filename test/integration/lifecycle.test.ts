// The foreground lifecycle: one readiness line on stdout, then SIGINT, SIGTERM or `mapnfs unmount`
// each end the mount with exit code 0 and nothing left in /proc/mounts.
import * as assert from 'uvu/assert'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FUSE_READAHEAD_KIB, readAheadFile } from '../../src/fuse/readahead-window.js'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { cliPath, engineOptions, mountCli, mountCount, mountedLine, requireCli, runCli, shAs } from '../fixtures/mount.js'
import { startProxy } from '../fixtures/tcp-proxy.js'
import { killSync, onExit } from '../fixtures/proc.js'
import { spawn } from 'node:child_process'
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

s.test('SIGTERM while the server does not answer MNT: exits at once with one line, nothing mounted', async ({ g, exp }) => {
  // A MOUNT port that accepts and then says nothing: MNT would wait out timeo x (retrans + 1) = 20 s.
  const proxy = await startProxy({ port: g.mountPort }, { kind: 'stall' })
  const mnt = makeMountpoint()
  try {
    const child = spawn(process.execPath, [cliPath, 'mount', nfsSource(exp), mnt, ...engineOptions, '-o', `uid=1234,gid=1234,nfsport=${g.nfsPort},mountport=${proxy.port}`], { stdio: ['ignore', 'pipe', 'pipe'] })
    const deregister = onExit(() => (killSync(child.pid!) ? `mapnfs mount (pid ${child.pid})` : undefined))
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    await proxy.waitAccepted(1)
    const t0 = Date.now()
    child.kill('SIGTERM')
    const code = await exited
    deregister()
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms after SIGTERM`)
    assert.is(code, 1)
    assert.is(stderr, 'mapnfs: interrupted before the mount was ready\n')
    assert.is(mountCount(mnt), 0)
  } finally {
    await proxy.close()
  }
})

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

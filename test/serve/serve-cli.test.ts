// `mapnfs serve` as an operator starts it: every way it cannot start is one line on stderr and a
// non-zero exit, with no socket or mount left behind; a daemon killed outright (SIGKILL, no
// cleanup) is replaced by a new one that clears the dead mount and mounts the held volume again.
import * as assert from 'uvu/assert'
import { createServer, type Server } from 'node:net'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { freePorts, makeExportDir, nfsUrl, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { runCli, shAs } from '../fixtures/mount.js'
import { isMounted } from '../fixtures/proc.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { serveDirs, startServe, type ServeDirs } from '../fixtures/serve.js'
import { startProxy } from '../fixtures/tcp-proxy.js'

interface Ctx {
  g: Ganesha
  exp: string
}

const s = fixtureSuite<Ctx>('mapnfs serve: start-up failures and a killed daemon', async (defer) => {
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  return { g, exp }
})

const serveArgs = (d: ServeDirs, extra: string[] = []): string[] => ['serve', '--socket', d.socket, '--state', d.state, '--mount-root', d.mountRoot, ...extra]

function oneLine(r: { code: number; stderr: string; stdout: string }, code: number, text: string | RegExp): void {
  assert.is(r.code, code, r.stderr)
  const lines = r.stderr.split('\n').filter(Boolean)
  assert.is(lines.length, 1, r.stderr)
  if (typeof text === 'string') assert.is(lines[0], `mapnfs: ${text}`)
  else assert.match(lines[0]!, text)
}

s.test('bad arguments, non-root, a bad state file: one line, no socket', async () => {
  const d = serveDirs()
  oneLine(await runCli(serveArgs(d, ['--frob'])), 2, "unknown option '--frob' for mapnfs serve")
  oneLine(await runCli(serveArgs(d, ['--metrics', 'nope'])), 2, "Invalid '--metrics' address 'nope' (expected HOST:PORT, e.g. 127.0.0.1:9464)")
  oneLine(await runCli(serveArgs(d), { uid: 2000, gid: 2000 }), 1, 'permission denied: mapnfs serve must run as root (it mounts FUSE file systems and owns a root-only socket)')
  mkdirSync(dirname(d.state), { recursive: true })
  writeFileSync(d.state, '{"version": 1, "volumes": ')
  oneLine(await runCli(serveArgs(d)), 1, `the state file ${d.state} is not valid JSON (move it away to start empty)`)
  assert.not.ok(existsSync(d.socket))
})

s.test('a socket another daemon serves, a metrics port in use: one line, the other daemon unharmed', async () => {
  const first = await startServe()
  try {
    const other = serveDirs()
    oneLine(await runCli(serveArgs({ ...other, socket: first.dirs.socket })), 1, `another process is serving on ${first.dirs.socket}`)
    assert.equal((await first.call('/Plugin.Activate')).body, { Implements: ['VolumeDriver'] })
    const [port] = await freePorts(1)
    const blocker: Server = createServer()
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', () => resolve()))
    try {
      oneLine(await runCli(serveArgs(other, ['--metrics', `127.0.0.1:${port}`])), 1, `cannot serve metrics on 127.0.0.1:${port}: EADDRINUSE`)
      assert.not.ok(existsSync(other.socket), 'the socket is removed again')
    } finally {
      blocker.close()
    }
  } finally {
    assert.is((await first.stop()).code, 0)
  }
})

s.test('a daemon killed with SIGKILL: the next one clears the dead mount and mounts the held volume again', async (c) => {
  const first = await startServe()
  const dirs = first.dirs
  assert.is((await first.call('/VolumeDriver.Create', { Name: 'crash', Opts: { source: nfsUrl(c.g, c.exp), uid: '1234', gid: '1234' } })).body.Err, '')
  const mp = (await first.call('/VolumeDriver.Mount', { Name: 'crash', ID: 'k' })).body.Mountpoint as string
  await shAs(2000, 2000, `printf survived > ${mp}/crash.txt; sync ${mp}/crash.txt`)
  first.kill('SIGKILL')
  assert.is(await first.exited, null)
  assert.ok(isMounted(mp), 'a killed daemon leaves its (dead) mount')
  assert.ok(existsSync(dirs.socket), 'and its socket file')

  const second = await startServe({ dirs })
  try {
    await second.waitFor(/"event":"mount"/)
    assert.match(second.stdout(), /"event":"stale-mount"/)
    assert.is(await shAs(2000, 2000, `cat ${mp}/crash.txt`), 'survived')
    assert.is(readFileSync(join(c.exp, 'crash.txt'), 'utf8'), 'survived')
    assert.is((await second.call('/VolumeDriver.Unmount', { Name: 'crash', ID: 'k' })).body.Err, '')
    assert.not.ok(isMounted(mp))
  } finally {
    assert.is((await second.stop()).code, 0)
  }
})

s.test('SIGTERM while a Mount waits on a silent MOUNT server: the Mount is refused, the daemon exits at once', async (c) => {
  const proxy = await startProxy({ port: c.g.mountPort }, { kind: 'stall' })
  try {
    const d = await startServe()
    assert.is((await d.call('/VolumeDriver.Create', { Name: 'silent', Opts: { source: `nfs://127.0.0.1:${c.g.nfsPort}${c.exp}?mountport=${proxy.port}`, uid: '1234', gid: '1234' } })).body.Err, '')
    const mount = d.call('/VolumeDriver.Mount', { Name: 'silent', ID: 's' })
    await proxy.waitAccepted(1)
    const t0 = Date.now()
    const stopped = await d.stop()
    assert.ok(Date.now() - t0 < 3000, `stop took ${Date.now() - t0} ms`)
    assert.is(stopped.code, 0)
    // Answered before the daemon closed its connections.
    assert.equal((await mount).body, { Err: 'interrupted before the mount was ready' })
    assert.not.ok(isMounted(join(d.dirs.mountRoot, 'silent')))
  } finally {
    await proxy.close()
  }
})

s.run()

// mapnfs serve as a real dockerd's volume driver: a private dockerd (Debian's docker.io, its own
// roots and socket, no network) finds the daemon by its socket in /run/docker/plugins, creates,
// mounts, unmounts and removes volumes through it, and containers running as uid 2000 use them as
// the server identities the volumes name. A restart of mapnfs serve keeps a held volume working for
// the containers dockerd starts afterwards.
import * as assert from 'uvu/assert'
import { chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { makeExportDir, nfsUrl, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { owner } from '../fixtures/expect.js'
import { isMounted } from '../fixtures/proc.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { PLUGIN_SOCKET_DIR, startDockerd, type Dockerd } from '../fixtures/dockerd.js'
import { serveDirs, startServe, type ServeDaemon, type ServeDirs } from '../fixtures/serve.js'

interface Ctx {
  g: Ganesha
  exp: string
  dockerd: Dockerd
  image: string
  plugin: string
  dirs: ServeDirs
  serve: ServeDaemon
}

const s = fixtureSuite<Ctx>('mapnfs serve as dockerd\'s volume driver', async (defer) => {
  const exp = makeExportDir()
  mkdirSync(join(exp, 'shared'))
  chmodSync(join(exp, 'shared'), 0o1777)
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  // A name of this run's own: every dockerd on the machine looks in the same directory.
  const plugin = `mapnfs-test-${randomBytes(4).toString('hex')}`
  const dirs = { ...serveDirs(), socket: join(PLUGIN_SOCKET_DIR, `${plugin}.sock`) }
  defer(() => {
    if (existsSync(dirs.socket)) unlinkSync(dirs.socket)
  })
  const ctx = { g, exp, plugin, dirs, serve: await startServe({ dirs }) } as Ctx
  defer(async () => {
    const r = await ctx.serve.stop()
    if (r.code !== 0) throw new Error(`mapnfs serve exited ${r.code}: ${r.stderr}`)
  })
  ctx.dockerd = await startDockerd(defer)
  ctx.image = await ctx.dockerd.importBusybox()
  return ctx
})

const source = (c: Ctx): string => nfsUrl(c.g, c.exp)

async function createVolume(c: Ctx, name: string, uid: number): Promise<void> {
  await c.dockerd.dockerOk(['volume', 'create', '-d', c.plugin, '-o', `source=${source(c)}`, '-o', `uid=${uid}`, '-o', `gid=${uid}`, name])
}

/** `docker run --rm --network none -u 2000:2000 -v VOLUME:/data IMAGE sh -c SCRIPT`. */
function runApp(c: Ctx, volume: string, script: string) {
  return c.dockerd.docker(['run', '--rm', '--network', 'none', '-u', '2000:2000', '-v', `${volume}:/data`, c.image, 'sh', '-c', script])
}

s.test('a container as uid 2000 writes through a volume: the server stores 1234, the container sees itself', async (c) => {
  await createVolume(c, 'v1', 1234)
  const ls = await c.dockerd.dockerOk(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}'])
  assert.match(ls.stdout, new RegExp(`^${c.plugin} v1$`, 'm'))
  const r = await runApp(c, 'v1', 'echo hello > /data/hello.txt && stat -c %u:%g /data/hello.txt && id -u')
  assert.is(r.code, 0, r.stderr)
  assert.is(r.stdout, '2000:2000\n2000\n')
  assert.is(owner(join(c.exp, 'hello.txt')), '1234:1234')
  assert.is(readFileSync(join(c.exp, 'hello.txt'), 'utf8'), 'hello\n')
  // The container is gone: dockerd unmounted its reference, the last one.
  assert.not.ok(isMounted(join(c.dirs.mountRoot, 'v1')))
})

s.test('two volumes with different uids on one export: one reads the other\'s file but cannot delete it', async (c) => {
  await createVolume(c, 'v2', 1235)
  const a = await runApp(c, 'v1', "umask 022; echo 'from v1' > /data/shared/note.txt")
  assert.is(a.code, 0, a.stderr)
  assert.is(owner(join(c.exp, 'shared', 'note.txt')), '1234:1234')
  const b = await runApp(c, 'v2', 'cat /data/shared/note.txt; stat -c %u /data/shared/note.txt; rm -f /data/shared/note.txt; echo rm=$?')
  assert.match(b.stdout, /^from v1\n1234\n/)
  assert.match(b.stdout, /rm=1\n$/)
  assert.match(b.stderr, /Permission denied|Operation not permitted/)
  assert.ok(existsSync(join(c.exp, 'shared', 'note.txt')))
})

s.test('a volume option errors and the password refusal reach the docker user', async (c) => {
  const pw = await c.dockerd.docker(['volume', 'create', '-d', c.plugin, '-o', `source=${source(c)}`, '-o', 'username=alice', '-o', 'password=s3cret-in-argv', 'vp'])
  assert.is.not(pw.code, 0)
  assert.match(pw.stderr, /a password must not be given as a volume option/)
  const uid0 = await c.dockerd.docker(['volume', 'create', '-d', c.plugin, '-o', `source=${source(c)}`, '-o', 'uid=0', '-o', 'gid=0', 'v0'])
  assert.is.not(uid0.code, 0)
  // dockerd sends Opts as a Go map, in no fixed order: whichever id is checked first is named.
  assert.match(uid0.stderr, /Invalid '[ug]id' option \(0, negative, or non-integer\)/, uid0.stderr)
  const names = (await c.dockerd.dockerOk(['volume', 'ls', '--format', '{{.Name}}'])).stdout.split('\n')
  assert.not.ok(names.includes('vp') || names.includes('v0'))
  assert.not.ok(c.serve.stdout().includes('s3cret-in-argv'), 'the refused password is not logged')
})

s.test('while a container runs the volume is mounted; docker volume rm after it stops unmounts and forgets it', async (c) => {
  const id = (await c.dockerd.dockerOk(['run', '-d', '--network', 'none', '-u', '2000:2000', '-v', 'v2:/data', c.image, 'sleep', '600'])).stdout.trim()
  const mp = join(c.dirs.mountRoot, 'v2')
  assert.ok(isMounted(mp))
  const busy = await c.dockerd.docker(['volume', 'rm', 'v2'])
  assert.is.not(busy.code, 0, 'dockerd refuses to remove a volume in use')
  await c.dockerd.dockerOk(['rm', '-f', id])
  assert.not.ok(isMounted(mp))
  await c.dockerd.dockerOk(['volume', 'rm', 'v2'])
  assert.not.ok(isMounted(mp))
  assert.not.ok(existsSync(mp), 'the mount point directory is removed')
  const state = JSON.parse(readFileSync(c.dirs.state, 'utf8')) as { volumes: Record<string, unknown> }
  assert.equal(Object.keys(state.volumes).sort(), ['v1'])
})

s.test('mapnfs serve restarts under a running container: the volume is mounted again, the running container keeps working, new ones see the data', async (c) => {
  await createVolume(c, 'v3', 1236)
  const w = await runApp(c, 'v3', 'echo persisted > /data/v3.txt')
  assert.is(w.code, 0, w.stderr)
  const holder = (await c.dockerd.dockerOk(['run', '-d', '--network', 'none', '-u', '2000:2000', '-v', 'v3:/data', c.image, 'sleep', '600'])).stdout.trim()
  const reader = (await c.dockerd.dockerOk(['run', '-d', '--network', 'none', '-u', '2000:2000', '-v', 'v3:/data:ro', c.image, 'sleep', '600'])).stdout.trim()
  const mp = join(c.dirs.mountRoot, 'v3')
  assert.ok(isMounted(mp))

  const stopped = await c.serve.stop()
  assert.is(stopped.code, 0)
  assert.not.ok(isMounted(mp), 'SIGTERM unmounted it')
  c.serve = await startServe({ dirs: c.dirs })
  await c.serve.waitFor(/"event":"mount"/)
  assert.ok(isMounted(mp), 'the restarted daemon mounted the held volume again')

  // The container that ran through the restart had the old daemon's mount, dead since; it has the
  // new one now, in its own mount namespace, and writes as the volume's identity again.
  await c.serve.waitFor(/"event":"reattach"/)
  const ex = await c.dockerd.docker(['exec', holder, 'sh', '-c', 'cat /data/v3.txt && echo again > /data/v3-holder.txt && stat -c %u:%g /data/v3-holder.txt'])
  assert.is(ex.code, 0, ex.stderr)
  assert.is(ex.stdout, 'persisted\n2000:2000\n')
  assert.is(owner(join(c.exp, 'v3-holder.txt')), '1236:1236')
  // A container that had the volume read-only keeps it read-only.
  const ro = await c.dockerd.docker(['exec', reader, 'sh', '-c', 'cat /data/v3.txt; touch /data/nope'])
  assert.is(ro.stdout, 'persisted\n')
  assert.match(ro.stderr, /Read-only file system/)
  await c.dockerd.dockerOk(['rm', '-f', reader])
  const r = await runApp(c, 'v3', 'cat /data/v3.txt; stat -c %u:%g /data/v3.txt')
  assert.is(r.code, 0, r.stderr)
  assert.is(r.stdout, 'persisted\n2000:2000\n')
  assert.is(owner(join(c.exp, 'v3.txt')), '1236:1236')
  // dockerd unmounts the holder's reference (recorded before the restart) when it goes.
  await c.dockerd.dockerOk(['rm', '-f', holder])
  assert.not.ok(isMounted(mp), 'the last reference, from before the restart, unmounted it')
  await c.dockerd.dockerOk(['volume', 'rm', 'v3'])
})

s.run()

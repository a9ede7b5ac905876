// The private Docker daemon fixture itself: it starts, runs a busybox container imported without a
// registry as uid/gid 2000 on a host directory bind, and stop() leaves no process (checked by pid)
// and no mount behind. If these fail, every test built on test/fixtures/dockerd.ts is suspect.
import * as assert from 'uvu/assert'
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { startDockerd, type Dockerd } from '../fixtures/dockerd.js'
import { makeTempDir } from '../fixtures/paths.js'
import { isAlive, mounts } from '../fixtures/proc.js'
import { fixtureSuite } from '../fixtures/suite.js'

interface Ctx {
  dockerd: Dockerd
  image: string
  data: string
}

const s = fixtureSuite<Ctx>('dockerd fixture', async (defer) => {
  const data = makeTempDir('dockerd-data', 0o777)
  defer(() => rmSync(data, { recursive: true, force: true }))
  const dockerd = await startDockerd(defer)
  const image = await dockerd.importBusybox()
  return { dockerd, image, data }
})

s.test('a private daemon answers on its own socket only', async ({ dockerd }) => {
  assert.ok(isAlive(dockerd.pid))
  assert.ok(isAlive(dockerd.containerdPid))
  assert.is(dockerd.host, `unix://${dockerd.socket}`)
  const info = await dockerd.dockerOk(['info', '--format', '{{.DockerRootDir}} {{.Driver}}'])
  assert.match(info.stdout.trim(), new RegExp(`^${dockerd.dataRoot} (overlay2|vfs)$`))
  const bad = await dockerd.docker(['inspect', 'no-such-container'])
  assert.is.not(bad.code, 0)
  try {
    await dockerd.dockerOk(['inspect', 'no-such-container'])
    assert.unreachable('dockerOk resolved on a non-zero exit')
  } catch (err) {
    assert.match((err as Error).message, /No such object|no such/i)
  }
})

s.test('a container runs as -u 2000:2000 and writes to a host directory bound at /data', async ({ dockerd, image, data }) => {
  const r = await dockerd.dockerOk(['run', '--rm', '--network', 'none', '-u', '2000:2000', '-v', `${data}:/data`, image, 'sh', '-c', 'id; echo hi > /data/f'])
  assert.match(r.stdout, /^uid=2000 gid=2000\b/m)
  const st = statSync(join(data, 'f'))
  assert.is(st.uid, 2000)
  assert.is(st.gid, 2000)
  assert.is(readFileSync(join(data, 'f'), 'utf8'), 'hi\n')
})

s.test('stop() ends dockerd, containerd, the shims and a running container, and unmounts everything', async ({ dockerd, image }) => {
  const id = (await dockerd.dockerOk(['run', '-d', '--network', 'none', image, 'sleep', '300'])).stdout.trim()
  const containerPid = Number((await dockerd.dockerOk(['inspect', '--format', '{{.State.Pid}}', id])).stdout.trim())
  const shims = dockerd.shimPids()
  assert.ok(containerPid > 0 && isAlive(containerPid), `container pid ${containerPid}`)
  assert.ok(shims.length >= 1, 'no containerd shim found for the running container')
  assert.ok(mounts().some((m) => m.target.startsWith(dockerd.dataRoot + '/')), 'no overlay mount under the data root')

  await dockerd.stop()
  for (const [what, pid] of [['dockerd', dockerd.pid], ['containerd', dockerd.containerdPid], ['container', containerPid], ...shims.map((p) => ['shim', p] as const)] as const) {
    assert.not.ok(isAlive(pid), `${what} pid ${pid} still alive after stop()`)
  }
  const left = mounts().filter((m) => m.target === dockerd.dir || m.target.startsWith(dockerd.dir + '/'))
  assert.equal(left.map((m) => m.target), [])
  assert.not.ok(existsSync(dockerd.dataRoot), 'data root not removed')
  await dockerd.stop() // idempotent: the after hook calls it again
})

s.run()

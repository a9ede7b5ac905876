// Servers that only talk to reserved source ports (ganesha `PrivilegedPort = true`; the kernel
// server's `secure` default): a mount as root uses a port in 512-1023 by default and works; with
// `noresvport` the server refuses it, and the CLI says so in one line and leaves nothing mounted.
// Options are given in the `--name value` / `--flag` form here.
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsSource, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { requireCli, runCli, shAs, withMount } from '../fixtures/mount.js'
import { assertCleanFailure, owner } from '../fixtures/expect.js'
import { fixtureSuite } from '../fixtures/suite.js'

interface Ctx { g: Ganesha; exp: string }

const s = fixtureSuite<Ctx>('PrivilegedPort export', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp, privilegedPort: true }] })
  defer(() => g.stop())
  return { g, exp }
})

const longOpts = (g: Ganesha): string[] =>
  ['--uid', '1234', '--gid', '1234', '--nfsport', String(g.nfsPort), '--mountport', String(g.mountPort)]

s.test('the default (reserved source port as root) mounts and works', async ({ g, exp }) => {
  const mnt = makeMountpoint()
  await withMount(nfsSource(exp), mnt, longOpts(g), async () => {
    await shAs(2000, 2000, `printf 'via reserved port' > ${mnt}/p.txt`)
  })
  assert.is(readFileSync(join(exp, 'p.txt'), 'utf8'), 'via reserved port')
  assert.is(owner(join(exp, 'p.txt')), '1234:1234')
})

s.test('--resvport explicitly also works', async ({ g, exp }) => {
  const mnt = makeMountpoint()
  await withMount(nfsSource(exp), mnt, [...longOpts(g), '--resvport'], async () => {
    assert.is(await shAs(2000, 2000, `cat ${mnt}/p.txt`), 'via reserved port')
  })
})

s.test('--noresvport is refused: non-zero exit, one stderr line, nothing mounted', async ({ g, exp }) => {
  const mnt = makeMountpoint()
  const r = await runCli(['mount', nfsSource(exp), mnt, ...longOpts(g), '--noresvport'])
  assertCleanFailure(r, mnt)
})

s.test('-o noresvport is refused the same way', async ({ g, exp }) => {
  const mnt = makeMountpoint()
  const r = await runCli(['mount', nfsSource(exp), mnt, '-o', `uid=1234,gid=1234,nfsport=${g.nfsPort},mountport=${g.mountPort},noresvport`])
  assertCleanFailure(r, mnt)
})

s.run()

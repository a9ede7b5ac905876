// The test server itself, checked with an independent client (libnfs-utils): if these fail, every
// other integration failure is suspect. Also pins down what ganesha answers in the setups the CLI
// tests rely on (MNT3ERR_ACCES for an excluded client, refusal of unprivileged source ports).
import * as assert from 'uvu/assert'
import { writeFileSync, chownSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsUrl, startGanesha, tcpAnswers, type Ganesha } from '../fixtures/ganesha.js'
import { isAlive, run } from '../fixtures/proc.js'
import { fixtureSuite } from '../fixtures/suite.js'

interface Ctx {
  g: Ganesha
  open: string
  denied: string
  privileged: string
}

const s = fixtureSuite<Ctx>('ganesha fixture', async (defer) => {
  const open = makeExportDir()
  const denied = makeExportDir()
  const privileged = makeExportDir()
  writeFileSync(join(open, 'hello.txt'), 'hello\n')
  chownSync(join(open, 'hello.txt'), 1234, 1234)
  const g = await startGanesha({
    exports: [
      { path: open },
      { path: denied, clients: '127.0.0.2' },
      { path: privileged, privilegedPort: true },
    ],
  })
  defer(() => g.stop())
  return { g, open, denied, privileged }
})

s.test('serves NFS 3 and MOUNT 3 on its own ports', async ({ g }) => {
  assert.ok(isAlive(g.pid))
  assert.is.not(g.nfsPort, g.mountPort)
  assert.ok(await tcpAnswers(g.nfsPort))
  for (const [port, prog] of [[g.nfsPort, '100003'], [g.mountPort, '100005']] as const) {
    const r = await run('/usr/sbin/rpcinfo', ['-n', String(port), '-t', '127.0.0.1', prog, '3'])
    assert.is(r.code, 0, `rpcinfo ${prog}: ${r.stderr}${r.stdout}`)
  }
})

s.test('nfs-ls lists the export as uid 1234 with ownership as stored', async ({ g, open }) => {
  const r = await run('/usr/bin/nfs-ls', [nfsUrl(g, open, { uid: 1234, gid: 1234 })])
  assert.is(r.code, 0, r.stderr)
  assert.match(r.stdout, /^-rw-r--r--\s+1\s+1234\s+1234\s+6 hello\.txt$/m)
})

s.test('an export whose CLIENT block excludes 127.0.0.1 answers MNT3ERR_ACCES', async ({ g, denied }) => {
  const r = await run('/usr/bin/nfs-ls', [nfsUrl(g, denied, { uid: 1234, gid: 1234 })])
  assert.is.not(r.code, 0)
  assert.match(r.stderr, /MNT3ERR_ACCES/)
})

s.test('PrivilegedPort = true: root (reserved port) gets in, an unprivileged source port does not', async ({ g, privileged }) => {
  const url = nfsUrl(g, privileged, { uid: 1234, gid: 1234 })
  const asRoot = await run('/usr/bin/nfs-ls', [url])
  assert.is(asRoot.code, 0, asRoot.stderr)
  // As uid 2000 libnfs cannot bind a port below 1024.
  const asUser = await run('/usr/bin/nfs-ls', [url], { uid: 2000, gid: 2000 })
  assert.is.not(asUser.code, 0, `unprivileged client was let in: ${asUser.stdout}`)
})

s.test('stop() ends the server and it no longer answers', async ({ g }) => {
  await g.stop()
  assert.not.ok(isAlive(g.pid), `ganesha pid ${g.pid} still alive`)
  assert.not.ok(await tcpAnswers(g.nfsPort), 'NFS port still answers')
  await g.stop() // idempotent: the after hook calls it again
})

s.run()

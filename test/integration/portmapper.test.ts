// The one mount that finds the NFS and MOUNT ports through the portmapper (rpcbind on 111), as a
// user's `host:/export` mount does. Every other integration test passes explicit ports, because
// portmapper registrations are global and the last ganesha started wins.
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { requireCli, shAs, statAs, withMount } from '../fixtures/mount.js'
import { run } from '../fixtures/proc.js'
import { owner } from '../fixtures/expect.js'
import { fixtureSuite } from '../fixtures/suite.js'

interface Ctx { g: Ganesha; exp: string }

const s = fixtureSuite<Ctx>('portmapper lookup', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  return { g, exp }
})

s.test('rpcbind maps NFS 3 and MOUNT 3 to this server (precondition)', async ({ g }) => {
  const r = await run('/usr/sbin/rpcinfo', ['-p', '127.0.0.1'])
  assert.is(r.code, 0, r.stderr)
  const has = (prog: number, port: number): boolean =>
    r.stdout.split('\n').some((l) => new RegExp(`^\\s*${prog}\\s+3\\s+tcp\\s+${port}\\b`).test(l))
  assert.ok(has(100003, g.nfsPort) && has(100005, g.mountPort),
    `another server registered after ours (registrations are global); rpcinfo -p:\n${r.stdout}`)
})

s.test('host:/export without ports mounts via the portmapper and works', async ({ exp }) => {
  const mnt = makeMountpoint()
  await withMount(`127.0.0.1:${exp}`, mnt, ['-o', 'uid=1234,gid=1234'], async () => {
    await shAs(2000, 2000, `umask 022; printf 'found via rpcbind' > ${mnt}/pm.txt`)
    assert.is(await statAs(2000, 2000, join(mnt, 'pm.txt')), '2000:2000')
  })
  assert.is(readFileSync(join(exp, 'pm.txt'), 'utf8'), 'found via rpcbind')
  assert.is(owner(join(exp, 'pm.txt')), '1234:1234')
})

s.test('nfs://host/export without ports mounts via the portmapper too', async ({ exp }) => {
  const mnt = makeMountpoint()
  await withMount(`nfs://127.0.0.1${exp}`, mnt, ['-o', 'uid=1234,gid=1234'], async () => {
    assert.is(await shAs(2000, 2000, `cat ${mnt}/pm.txt`), 'found via rpcbind')
  })
})

s.run()

// Two mounts of one export with different server identities (1234 and 1235), both used by the same
// local uid 2000: the server tells them apart. In a sticky 1777 directory the second identity can
// read the first one's file but not delete it — per-application access control, which one kernel
// mount for all applications cannot give.
import * as assert from 'uvu/assert'
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { mountCli, requireCli, runAs, shAs, statAs, type MountedCli } from '../fixtures/mount.js'
import { owner } from '../fixtures/expect.js'
import { fixtureSuite } from '../fixtures/suite.js'

interface Ctx {
  g: Ganesha
  exp: string
  a: MountedCli
  b: MountedCli
}

const s = fixtureSuite<Ctx>('two mounts, two identities (1234, 1235), one export', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  mkdirSync(join(exp, 'shared'))
  chmodSync(join(exp, 'shared'), 0o1777)
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const stop = (m: MountedCli) => async () => {
    const u = await m.unmount()
    if (u.code !== 0) throw new Error(`mapnfs exited ${u.code} after SIGTERM: ${u.stderr}`)
  }
  const a = await mountCli(nfsSource(exp), makeMountpoint(), ['-o', `uid=1234,gid=1234,${portOptions(g)}`])
  defer(stop(a))
  // The second mount gives the NFS port in the URL and the MOUNT port as a query parameter.
  const bSource = `nfs://127.0.0.1:${g.nfsPort}${exp}?mountport=${g.mountPort}`
  const b = await mountCli(bSource, makeMountpoint(), ['-o', 'uid=1235,gid=1235'])
  defer(stop(b))
  return { g, exp, a, b }
})

s.test('each mount writes as its own identity', async ({ exp, a, b }) => {
  await shAs(2000, 2000, `umask 022; printf a > ${a.mountpoint}/from-a.txt && printf b > ${b.mountpoint}/from-b.txt`)
  assert.is(owner(join(exp, 'from-a.txt')), '1234:1234')
  assert.is(owner(join(exp, 'from-b.txt')), '1235:1235')
  // Each mount shows its own files as the local uid, the other's as the other server uid.
  assert.is(await statAs(2000, 2000, join(a.mountpoint, 'from-a.txt')), '2000:2000')
  assert.is(await statAs(2000, 2000, join(a.mountpoint, 'from-b.txt')), '1235:1235')
  assert.is(await statAs(2000, 2000, join(b.mountpoint, 'from-b.txt')), '2000:2000')
  assert.is(await statAs(2000, 2000, join(b.mountpoint, 'from-a.txt')), '1234:1234')
})

s.test('sticky 1777 directory: the second identity reads but cannot delete the first one\'s file', async ({ exp, a, b }) => {
  assert.is(await statAs(2000, 2000, join(b.mountpoint, 'shared'), '%a'), '1777')
  await shAs(2000, 2000, `umask 022; printf 'owned by 1234\\n' > ${a.mountpoint}/shared/note.txt`)
  assert.is(owner(join(exp, 'shared', 'note.txt')), '1234:1234')

  assert.is(await shAs(2000, 2000, `cat ${b.mountpoint}/shared/note.txt`), 'owned by 1234\n')
  const rm = await runAs(2000, 2000, '/bin/rm', ['-f', join(b.mountpoint, 'shared', 'note.txt')])
  assert.is.not(rm.code, 0, 'deleting another identity\'s file in a sticky directory must fail')
  assert.match(rm.stderr, /Permission denied|Operation not permitted/)
  assert.ok(statSync(join(exp, 'shared', 'note.txt'), { throwIfNoEntry: false }), 'file still on the export')
  const mv = await runAs(2000, 2000, '/bin/mv', [join(b.mountpoint, 'shared', 'note.txt'), join(b.mountpoint, 'shared', 'stolen.txt')])
  assert.is.not(mv.code, 0, 'renaming it away must fail too')

  // The owner can.
  await shAs(2000, 2000, `rm ${a.mountpoint}/shared/note.txt`)
  assert.not.ok(statSync(join(exp, 'shared', 'note.txt'), { throwIfNoEntry: false }))
})

s.test('the second identity cannot overwrite the first one\'s 0644 file', async ({ exp, a, b }) => {
  await shAs(2000, 2000, `umask 022; printf 'keep' > ${a.mountpoint}/shared/keep.txt`)
  const w = await runAs(2000, 2000, '/bin/sh', ['-c', `printf 'clobber' > ${b.mountpoint}/shared/keep.txt`])
  assert.is.not(w.code, 0)
  assert.match(w.stderr, /Permission denied/)
  assert.is(readFileSync(join(exp, 'shared', 'keep.txt'), 'utf8'), 'keep')
})

s.run()

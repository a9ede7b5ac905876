// Without uid/gid the CLI is a plain multi-user client: each call carries the caller's own
// uid/gid, and ownership is shown as the server stores it (no mapping either way).
import * as assert from 'uvu/assert'
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { mountCli, requireCli, runAs, shAs, statAs, type MountedCli } from '../fixtures/mount.js'
import { owner } from '../fixtures/expect.js'
import { fixtureSuite } from '../fixtures/suite.js'

interface Ctx { g: Ganesha; exp: string; m: MountedCli }

const s = fixtureSuite<Ctx>('multi-user mount (no uid/gid)', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  writeFileSync(join(exp, 'by-1234.txt'), 'server file\n')
  chownSync(join(exp, 'by-1234.txt'), 1234, 1234)
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const m = await mountCli(nfsSource(exp), makeMountpoint(), ['-o', portOptions(g)])
  defer(async () => {
    const u = await m.unmount()
    if (u.code !== 0) throw new Error(`mapnfs exited ${u.code} after SIGTERM: ${u.stderr}`)
  })
  return { g, exp, m }
})

s.test('files land on the export as their creator: 2000:2000 and 3000:3000', async ({ exp, m }) => {
  await shAs(2000, 2000, `umask 022; printf a > ${m.mountpoint}/u2000.txt`)
  await shAs(3000, 3000, `umask 022; printf b > ${m.mountpoint}/u3000.txt`)
  assert.is(owner(join(exp, 'u2000.txt')), '2000:2000')
  assert.is(owner(join(exp, 'u3000.txt')), '3000:3000')
  assert.is(await statAs(2000, 2000, join(m.mountpoint, 'u3000.txt')), '3000:3000')
  assert.is(await statAs(3000, 3000, join(m.mountpoint, 'u2000.txt')), '2000:2000')
})

s.test('ownership is not mapped: a server file of 1234 shows as 1234', async ({ m }) => {
  assert.is(await statAs(2000, 2000, join(m.mountpoint, 'by-1234.txt')), '1234:1234')
})

s.test('the server checks each caller: 3000 cannot write 2000\'s 0644 file, 2000 can', async ({ exp, m }) => {
  const w = await runAs(3000, 3000, '/bin/sh', ['-c', `printf x >> ${m.mountpoint}/u2000.txt`])
  assert.is.not(w.code, 0)
  assert.match(w.stderr, /Permission denied/)
  await shAs(2000, 2000, `printf y >> ${m.mountpoint}/u2000.txt`)
  assert.is(readFileSync(join(exp, 'u2000.txt'), 'utf8'), 'ay')
})

s.test('supplementary groups travel too (read from /proc/PID/status): group 3333 may write its 2770 directory', async ({ exp, m }) => {
  const dir = join(exp, 'team')
  mkdirSync(dir)
  chownSync(dir, 0, 3333)
  chmodSync(dir, 0o2770)
  const write = (groups: string): Promise<{ code: number; stderr: string }> =>
    runAs(0, 0, '/usr/bin/setpriv', ['--reuid=2000', '--regid=2000', `--groups=${groups}`, '/bin/sh', '-c', `printf t > ${m.mountpoint}/team/g${groups.replace(/,/g, '-')}.txt`])
  const member = await write('4444,3333')
  assert.is(member.code, 0, member.stderr)
  assert.is(owner(join(dir, 'g4444-3333.txt')), '2000:3333')
  const outsider = await write('4444')
  assert.is.not(outsider.code, 0)
  assert.match(outsider.stderr, /Permission denied/)
})

s.run()

// Times outside nfstime3's range (unsigned 32-bit seconds) set through the mount are clamped as
// the Linux NFS client does for v3 (seconds into [0, 2^32 - 1], nanoseconds 0 at either end),
// never wrapped: the old binding cut tv_sec to 32 bits, so 2^32 s read back as 0 (1970).
// Mounted with uid=1234,gid=1234 and used as local uid 2000, like the application would.
import * as assert from 'uvu/assert'
import { chownSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsSource, portOptions, startGanesha } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { mountCli, requireCli, shAs, statAs, type MountedCli } from '../fixtures/mount.js'
import { fixtureSuite } from '../fixtures/suite.js'

const APP = 2000

interface Ctx {
  exp: string
  mnt: string
  m: MountedCli
}

const s = fixtureSuite<Ctx>('times outside the NFSv3 range', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const mnt = makeMountpoint()
  const m = await mountCli(nfsSource(exp), mnt, ['-o', `uid=1234,gid=1234,${portOptions(g)}`])
  defer(async () => {
    const u = await m.unmount()
    if (u.code !== 0) throw new Error(`mapnfs exited ${u.code}: ${u.stderr}`)
  })
  return { exp, mnt, m }
})

/** A fresh file owned by the mapped server identity (so uid 2000 may set its times). */
function file(exp: string, name: string): string {
  writeFileSync(join(exp, name), 't')
  chownSync(join(exp, name), 1234, 1234)
  return name
}

/** atime and mtime as `SEC.NSEC SEC.NSEC`, on the export directly. */
function exportTimes(exp: string, name: string): string {
  const st = statSync(join(exp, name), { bigint: true })
  const fmt = (ns: bigint): string => `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`
  return `${fmt(st.atimeNs)} ${fmt(st.mtimeNs)}`
}

/** `touch -d @WHEN` (atime and mtime, one utimensat) through the mount as the application. */
async function touchAt(mnt: string, name: string, when: string, flags = ''): Promise<void> {
  await shAs(APP, APP, `touch ${flags} -d @${when} '${join(mnt, name)}'`)
}

const through = (mnt: string, name: string): Promise<string> => statAs(APP, APP, join(mnt, name), '%.9X %.9Y')

for (const [when, label] of [['4294967296', '2^32'], ['1099511627776', '2^40']] as const) {
  s.test(`utimensat with ${label} s reads back 4294967295 (clamped, not wrapped to 1970)`, async ({ exp, mnt }) => {
    const name = file(exp, `late-${label.replace('^', '')}`)
    await touchAt(mnt, name, when)
    assert.is(await through(mnt, name), '4294967295.000000000 4294967295.000000000', 'through the mount')
    assert.is(exportTimes(exp, name), '4294967295.000000000 4294967295.000000000', 'on the export')
  })
}

s.test('utimensat before 1970 reads back 0 (clamped, not wrapped to 2106)', async ({ exp, mnt }) => {
  const name = file(exp, 'early')
  await touchAt(mnt, name, '-1')
  assert.is(await through(mnt, name), '0.000000000 0.000000000', 'through the mount')
  assert.is(exportTimes(exp, name), '0.000000000 0.000000000', 'on the export')
  await touchAt(mnt, name, '-4294967297.5')
  assert.is(await through(mnt, name), '0.000000000 0.000000000', 'far before 1970')
})

s.test('4294967295 and an ordinary time with nanoseconds round-trip exactly', async ({ exp, mnt }) => {
  const name = file(exp, 'exact')
  await touchAt(mnt, name, '4294967295')
  assert.is(await through(mnt, name), '4294967295.000000000 4294967295.000000000', 'the last second nfstime3 holds')
  assert.is(exportTimes(exp, name), '4294967295.000000000 4294967295.000000000')
  await touchAt(mnt, name, '1262304000.123456789')
  assert.is(await through(mnt, name), '1262304000.123456789 1262304000.123456789', 'nanoseconds kept')
  assert.is(exportTimes(exp, name), '1262304000.123456789 1262304000.123456789')
})

s.test('with one time omitted (UTIME_OMIT) the other is still clamped and the omitted one kept', async ({ exp, mnt }) => {
  const name = file(exp, 'omit')
  await touchAt(mnt, name, '1262304000.5')
  await touchAt(mnt, name, '4294967296', '-m')
  assert.is(await through(mnt, name), '1262304000.500000000 4294967295.000000000', 'touch -m: atime kept')
  await touchAt(mnt, name, '-1', '-a')
  assert.is(await through(mnt, name), '0.000000000 4294967295.000000000', 'touch -a: mtime kept')
  assert.is(exportTimes(exp, name), '0.000000000 4294967295.000000000')
})

s.run()

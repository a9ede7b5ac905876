// A mount with uid=1234,gid=1234 used by local uid 2000: every operation the application does goes
// out as 1234/1234, lands on the export as 1234:1234 and shows up locally as 2000:2000 (both
// directions of the mapping, identity-contract.md). The export directory is checked directly, as
// root, as the server's ground truth.
import * as assert from 'uvu/assert'
import { createHash, randomFillSync } from 'node:crypto'
import { chmodSync, chownSync, createReadStream, lstatSync, openSync, closeSync, readFileSync, readdirSync, readlinkSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint, makeTempDir } from '../fixtures/paths.js'
import { mountCli, requireCli, runAs, shAs, statAs, withMount, type MountedCli } from '../fixtures/mount.js'
import { owner } from '../fixtures/expect.js'
import { fixtureSuite } from '../fixtures/suite.js'

const APP = 2000 // the application's local uid and gid
const SERVER = 1234 // the mount's server-side identity

interface Ctx {
  g: Ganesha
  exp: string
  mnt: string
  m: MountedCli
}

const s = fixtureSuite<Ctx>('mapped identity (uid=1234,gid=1234) used by local uid 2000', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const mnt = makeMountpoint()
  const m = await mountCli(nfsSource(exp), mnt, ['-o', `uid=${SERVER},gid=${SERVER},${portOptions(g)}`])
  defer(async () => {
    const u = await m.unmount()
    if (u.code !== 0) throw new Error(`mapnfs exited ${u.code} after SIGTERM: ${u.stderr}`)
  })
  return { g, exp, mnt, m }
})

/** Runs a shell script as the application (uid/gid 2000, umask 022) and returns its stdout. */
function app(script: string, timeoutMs?: number): Promise<string> {
  return shAs(APP, APP, `umask 022; ${script}`, timeoutMs === undefined ? {} : { timeoutMs })
}

s.test('create, write, append and read back; 1234:1234 on the export, 2000:2000 through the mount', async ({ exp, mnt }) => {
  await app(`printf 'hello\\n' > ${mnt}/a.txt`)
  assert.is(await app(`cat ${mnt}/a.txt`), 'hello\n')
  await app(`printf 'world\\n' >> ${mnt}/a.txt`)
  assert.is(await app(`cat ${mnt}/a.txt`), 'hello\nworld\n')
  assert.is(readFileSync(join(exp, 'a.txt'), 'utf8'), 'hello\nworld\n')
  assert.is(owner(join(exp, 'a.txt')), '1234:1234')
  assert.is(await statAs(APP, APP, join(mnt, 'a.txt'), '%u:%g %s'), '2000:2000 12')
  // Writing again after the ownership round trip: the classic one-way-mapping bug fails here.
  await app(`printf 'again\\n' >> ${mnt}/a.txt`)
  assert.is(readFileSync(join(exp, 'a.txt'), 'utf8'), 'hello\nworld\nagain\n')
})

s.test('rename', async ({ exp, mnt }) => {
  await app(`printf 'r' > ${mnt}/before.txt && mv ${mnt}/before.txt ${mnt}/after.txt`)
  assert.not.ok(statSync(join(exp, 'before.txt'), { throwIfNoEntry: false }))
  assert.is(readFileSync(join(exp, 'after.txt'), 'utf8'), 'r')
  assert.is((await app(`ls ${mnt}`)).split('\n').filter((n) => n === 'before.txt' || n === 'after.txt').join(','), 'after.txt')
})

s.test('chmod', async ({ exp, mnt }) => {
  await app(`printf 'm' > ${mnt}/mode.txt && chmod 640 ${mnt}/mode.txt`)
  assert.is(statSync(join(exp, 'mode.txt')).mode & 0o7777, 0o640)
  assert.is(await statAs(APP, APP, join(mnt, 'mode.txt'), '%a'), '640')
  await app(`chmod 604 ${mnt}/mode.txt`)
  assert.is(statSync(join(exp, 'mode.txt')).mode & 0o7777, 0o604)
})

s.test('chown to self (2000:2000) is sent as 1234:1234', async ({ exp, mnt }) => {
  await app(`printf 'c' > ${mnt}/own.txt && chown ${APP}:${APP} ${mnt}/own.txt`)
  assert.is(owner(join(exp, 'own.txt')), '1234:1234')
  assert.is(await statAs(APP, APP, join(mnt, 'own.txt')), '2000:2000')
  await app(`chgrp ${APP} ${mnt}/own.txt`)
  assert.is(owner(join(exp, 'own.txt')), '1234:1234')
})

s.test('symlink and readlink', async ({ exp, mnt }) => {
  await app(`printf 't' > ${mnt}/target.txt && ln -s target.txt ${mnt}/link`)
  assert.is((await app(`readlink ${mnt}/link`)).trim(), 'target.txt')
  assert.is(readlinkSync(join(exp, 'link')), 'target.txt')
  assert.ok(lstatSync(join(exp, 'link')).isSymbolicLink())
  assert.is(owner(join(exp, 'link')), '1234:1234')
  assert.is(await statAs(APP, APP, join(mnt, 'link'), '%F %u:%g'), 'symbolic link 2000:2000')
  assert.is(await app(`cat ${mnt}/link`), 't')
})

s.test('hard link: nlink 2 on both sides, same content', async ({ exp, mnt }) => {
  await app(`printf 'h' > ${mnt}/orig.txt && ln ${mnt}/orig.txt ${mnt}/hard.txt`)
  assert.is(statSync(join(exp, 'orig.txt')).nlink, 2)
  assert.is(statSync(join(exp, 'hard.txt')).ino, statSync(join(exp, 'orig.txt')).ino)
  assert.is(await statAs(APP, APP, join(mnt, 'orig.txt'), '%h'), '2')
  assert.is(await statAs(APP, APP, join(mnt, 'hard.txt'), '%h %u:%g'), '2 2000:2000')
  await app(`rm ${mnt}/hard.txt`)
  assert.is(await statAs(APP, APP, join(mnt, 'orig.txt'), '%h'), '1')
})

s.test('truncate grows (zero-filled) and shrinks', async ({ exp, mnt }) => {
  await app(`printf 'abcdef' > ${mnt}/trunc.bin && truncate -s 100000 ${mnt}/trunc.bin`)
  assert.is(statSync(join(exp, 'trunc.bin')).size, 100000)
  assert.is(await statAs(APP, APP, join(mnt, 'trunc.bin'), '%s'), '100000')
  const grown = readFileSync(join(exp, 'trunc.bin'))
  assert.is(grown.subarray(0, 6).toString(), 'abcdef')
  assert.ok(grown.subarray(6).every((b) => b === 0), 'grown region must read as zeros')
  await app(`truncate -s 3 ${mnt}/trunc.bin`)
  assert.is(readFileSync(join(exp, 'trunc.bin'), 'utf8'), 'abc')
  assert.is(await app(`cat ${mnt}/trunc.bin`), 'abc')
})

s.test('utimens: touch -d sets mtime and atime', async ({ exp, mnt }) => {
  await app(`printf 'u' > ${mnt}/times.txt && touch -d '2001-02-03 04:05:06 UTC' ${mnt}/times.txt`)
  const st = statSync(join(exp, 'times.txt'))
  assert.is(Math.floor(st.mtimeMs / 1000), 981173106)
  assert.is(Math.floor(st.atimeMs / 1000), 981173106)
  assert.is(await statAs(APP, APP, join(mnt, 'times.txt'), '%Y %X'), '981173106 981173106')
})

// Distinct atime and mtime in one utimensat(): fuse-native 2.2.6 handed the atime over twice, so
// this caught mtime being set to atime (fixed by scripts/build-fuse-native.mjs, which also makes
// times travel with nanoseconds and lets UTIME_OMIT/UTIME_NOW through).
s.test('utimens with distinct atime and mtime sets each', async ({ exp, mnt }) => {
  await app(`printf 'u' > ${mnt}/times2.txt`)
  const script = `require('fs').utimesSync(${JSON.stringify(join(mnt, 'times2.txt'))}, 981173106, 1262304000)`
  const r = await runAs(APP, APP, process.execPath, ['-e', script])
  assert.is(r.code, 0, r.stderr)
  const st = statSync(join(exp, 'times2.txt'))
  assert.is(`${Math.floor(st.atimeMs / 1000)} ${Math.floor(st.mtimeMs / 1000)}`, '981173106 1262304000', 'atime mtime on the export')
  assert.is(await statAs(APP, APP, join(mnt, 'times2.txt'), '%X %Y'), '981173106 1262304000', 'atime mtime through the mount')
})

s.test('utimens with one time omitted: touch -m sets only mtime, touch -a only atime, nanoseconds kept', async ({ exp, mnt }) => {
  await app(`printf 'u' > ${mnt}/times3.txt && touch -d '2001-02-03 04:05:06.5 UTC' ${mnt}/times3.txt`)
  await app(`touch -m -d '2010-01-01 00:00:00.123456789 UTC' ${mnt}/times3.txt`)
  const ns = (p: string): string => {
    const st = statSync(p, { bigint: true })
    return `${st.atimeNs} ${st.mtimeNs}`
  }
  assert.is(ns(join(exp, 'times3.txt')), '981173106500000000 1262304000123456789', 'after touch -m (export)')
  await app(`touch -a -d '2012-01-01 00:00:00.000000007 UTC' ${mnt}/times3.txt`)
  assert.is(ns(join(exp, 'times3.txt')), '1325376000000000007 1262304000123456789', 'after touch -a (export)')
  assert.is(await statAs(APP, APP, join(mnt, 'times3.txt'), '%.9X %.9Y'), '1325376000.000000007 1262304000.123456789', 'through the mount')
  // UTIME_NOW for both: the server's clock, which is this machine's.
  const before = Date.now() - 2000
  await app(`touch ${mnt}/times3.txt`)
  assert.ok(statSync(join(exp, 'times3.txt')).mtimeMs >= before, 'touch without a time sets now')
})

s.test('mkdir and rmdir', async ({ exp, mnt }) => {
  await app(`mkdir ${mnt}/dir && printf 'x' > ${mnt}/dir/inner.txt`)
  assert.ok(statSync(join(exp, 'dir')).isDirectory())
  assert.is(owner(join(exp, 'dir')), '1234:1234')
  assert.is(owner(join(exp, 'dir', 'inner.txt')), '1234:1234')
  assert.is(await statAs(APP, APP, join(mnt, 'dir'), '%F %u:%g'), 'directory 2000:2000')
  const notEmpty = await runAs(APP, APP, '/bin/rmdir', [join(mnt, 'dir')])
  assert.is.not(notEmpty.code, 0, 'rmdir of a non-empty directory must fail')
  await app(`rm ${mnt}/dir/inner.txt && rmdir ${mnt}/dir`)
  assert.not.ok(statSync(join(exp, 'dir'), { throwIfNoEntry: false }))
})

s.test('a directory of 2000 entries lists completely, count exact', async ({ exp, mnt }) => {
  const N = 2000
  const dir = join(mnt, 'many')
  const create = `const fs = require('fs'); fs.mkdirSync(${JSON.stringify(dir)});` +
    `for (let i = 0; i < ${N}; i++) fs.writeFileSync(${JSON.stringify(dir)} + '/entry-' + i, String(i));`
  const made = await runAs(APP, APP, process.execPath, ['-e', create], { timeoutMs: 120_000 })
  assert.is(made.code, 0, made.stderr)
  const expected = Array.from({ length: N }, (_, i) => `entry-${i}`).sort()
  assert.equal(readdirSync(join(exp, 'many')).sort(), expected, 'export side')
  const list = await runAs(APP, APP, process.execPath, ['-e', `process.stdout.write(JSON.stringify(require('fs').readdirSync(${JSON.stringify(dir)})))`])
  assert.is(list.code, 0, list.stderr)
  const listed = JSON.parse(list.stdout) as string[]
  assert.is(listed.length, N, 'entries listed through the mount')
  assert.equal([...listed].sort(), expected)
  assert.is((await app(`ls -1A ${dir} | wc -l`)).trim(), String(N))
})

s.test('256 MiB random file copied in: sha256 matches on the export and read back', async ({ exp, mnt }) => {
  const SIZE = 256 * 1024 * 1024
  const CHUNK = 1024 * 1024
  const src = join(makeTempDir('src'), 'random.bin')
  const hash = createHash('sha256')
  const fd = openSync(src, 'w', 0o644)
  const buf = Buffer.alloc(CHUNK)
  for (let off = 0; off < SIZE; off += CHUNK) {
    randomFillSync(buf)
    hash.update(buf)
    writeSync(fd, buf)
  }
  closeSync(fd)
  chmodSync(src, 0o644)
  const want = hash.digest('hex')
  try {
    await app(`cp ${src} ${mnt}/big.bin`, 300_000)
    const st = statSync(join(exp, 'big.bin'))
    assert.is(st.size, SIZE)
    assert.is(`${st.uid}:${st.gid}`, '1234:1234')
    assert.is(await sha256File(join(exp, 'big.bin')), want, 'sha256 on the export')
    const back = await app(`sha256sum ${mnt}/big.bin`, 300_000)
    assert.is(back.split(' ')[0], want, 'sha256 read back through the mount')
  } finally {
    unlinkSync(src)
    unlinkSync(join(exp, 'big.bin'))
  }
})

s.test('a 0600 file of another server uid (4321) is EACCES; its owner passes through unmapped', async ({ exp, mnt }) => {
  const secret = join(exp, 'secret.txt')
  writeFileSync(secret, 'not yours\n')
  chownSync(secret, 4321, 4321)
  chmodSync(secret, 0o600)
  assert.is(await statAs(APP, APP, join(mnt, 'secret.txt'), '%u:%g %a'), '4321:4321 600')
  const r = await runAs(APP, APP, '/bin/cat', [join(mnt, 'secret.txt')])
  assert.is.not(r.code, 0)
  assert.match(r.stderr, /Permission denied/)
  assert.is(r.stdout, '')
  const w = await runAs(APP, APP, '/bin/sh', ['-c', `printf x >> ${mnt}/secret.txt`])
  assert.is.not(w.code, 0)
  assert.match(w.stderr, /Permission denied/)
  assert.is(readFileSync(secret, 'utf8'), 'not yours\n')
})

s.test('localuid/localgid: mapped files show as the configured local identity, whoever asks', async ({ g, exp }) => {
  const mnt = makeMountpoint()
  await withMount(nfsSource(exp), mnt, ['-o', `uid=${SERVER},gid=${SERVER},localuid=${APP},localgid=${APP},${portOptions(g)}`], async () => {
    // stat in a child, never from the test process itself: a hung daemon must not hang the runner.
    assert.is(await statAs(0, 0, join(mnt, 'a.txt')), '2000:2000', 'as root')
    assert.is(await statAs(3000, 3000, join(mnt, 'a.txt')), '2000:2000', 'as uid 3000')
    assert.is(await statAs(0, 0, join(mnt, 'secret.txt')), '4321:4321', 'unmapped owner passes through')
  })
})

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256')
    createReadStream(path).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')))
  })
}

s.run()

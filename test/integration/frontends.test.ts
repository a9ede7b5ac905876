// The two FUSE front ends side by side on one export: the kernel protocol spoken by mapnfs
// (frontend=kernel) and fuse-native over libfuse 2 (frontend=libfuse2, still selectable). The
// same script as the application's uid gives the same answers through both. Hard links share one
// inode only through the kernel front end, whose stat of one name sees a chmod made through
// another at once even with `cache` (libfuse 2 gives each name its own inode).
import * as assert from 'uvu/assert'
import { readdirSync } from 'node:fs'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { mountCli, requireCli, shAs, type MountedCli } from '../fixtures/mount.js'
import { fixtureSuite } from '../fixtures/suite.js'

const APP = 2000

interface Ctx { g: Ganesha; exp: string }

const s = fixtureSuite<Ctx>('FUSE front ends: kernel protocol and libfuse 2', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  return { g, exp }
})

async function withFrontend<T>(ctx: Ctx, frontend: string, extra: string, fn: (m: MountedCli) => Promise<T>): Promise<T> {
  const m = await mountCli(nfsSource(ctx.exp), makeMountpoint(), ['-o', `uid=1234,gid=1234,${portOptions(ctx.g)},frontend=${frontend}${extra}`])
  try {
    return await fn(m)
  } finally {
    const u = await m.unmount()
    assert.is(u.code, 0, u.stderr)
  }
}

const SCRIPT = (dir: string): string => `
set -e
cd ${dir}
mkdir d && echo hello > d/f && ln d/f d/g && ln -s f d/s
head -c 3000000 /dev/urandom > d/big && sha256sum d/big | cut -c1-64 > d/big.sum
mv d/g d/h && chmod 600 d/h && truncate -s 5 d/f
printf 'x' | dd of=d/f bs=1 seek=7 conv=notrunc 2>/dev/null
ls -ln d | awk 'NR > 1 { print $1, $2, $3, $4, $5, $9, $10, $11 }'
cat d/f | od -An -c
readlink d/s
[ "$(sha256sum d/big | cut -c1-64)" = "$(cat d/big.sum)" ] && echo sha ok
rm -r d
ls -A
`

for (const frontend of ['kernel', 'libfuse2']) {
  s.test(`${frontend}: the same script gives the same answers (names, links, modes, sizes, data, owners)`, async (ctx) => {
    const out = await withFrontend(ctx, frontend, '', (m) => shAs(APP, APP, SCRIPT(m.mountpoint)))
    assert.equal(out.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' ')), [
      '-rw-r--r-- 1 2000 2000 3000000 big',
      '-rw-r--r-- 1 2000 2000 65 big.sum',
      '-rw------- 2 2000 2000 8 f',
      '-rw------- 2 2000 2000 8 h',
      'lrwxrwxrwx 1 2000 2000 1 s -> f',
      'h e l l o \\0 \\0 x',
      'f',
      'sha ok',
    ])
    assert.equal(readdirSync(ctx.exp), [])
  })
}

s.test(`kernel: with cache, a chmod through one name of a hard-linked file shows through the other at once (one inode)`, async (ctx) => {
  await withFrontend(ctx, 'kernel', ',cache', async (m) => {
    const out = await shAs(APP, APP, `cd ${m.mountpoint} && echo x > a && ln a b && stat -c %a b && chmod 640 a && stat -c '%a %h %i' b && stat -c '%i' a && rm a b`)
    const [first, after, inoA] = out.trim().split('\n')
    assert.is(first, '644')
    const [mode, links, inoB] = after!.split(' ')
    assert.is(mode, '640')
    assert.is(links, '2')
    assert.is(inoB, inoA)
  })
})

s.run()

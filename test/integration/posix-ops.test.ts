// Operations beyond the basic identity round trip: FIFOs, statfs, access(2), ftruncate/fsync,
// O_EXCL, rename over a file, unlink of an open file, stale handles, read-only and cached mounts.
// Mounted with uid=1234,gid=1234 and used as local uid 2000, like the application would.
import * as assert from 'uvu/assert'
import { chownSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { mountCli, requireCli, runAs, shAs, withMount, type MountedCli } from '../fixtures/mount.js'
import { delay } from '../fixtures/proc.js'
import { fixtureSuite } from '../fixtures/suite.js'

const APP = 2000

interface Ctx {
  g: Ganesha
  exp: string
  mnt: string
  m: MountedCli
}

const s = fixtureSuite<Ctx>('POSIX operations through a mapped mount', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const mnt = makeMountpoint()
  const m = await mountCli(nfsSource(exp), mnt, ['-o', `uid=1234,gid=1234,${portOptions(g)},stats`])
  defer(async () => {
    const u = await m.unmount()
    if (u.code !== 0) throw new Error(`mapnfs exited ${u.code}: ${u.stderr}`)
  })
  return { g, exp, mnt, m }
})

const app = (script: string): Promise<string> => shAs(APP, APP, `umask 022; ${script}`)

/** Runs JS as the application; resolves with its stdout (throws with stderr on failure). */
async function node(code: string): Promise<string> {
  const r = await runAs(APP, APP, process.execPath, ['-e', code])
  if (r.code !== 0) throw new Error(`node as ${APP} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

s.test('mkfifo makes a FIFO on the server (MKNOD NF3FIFO)', async ({ exp, mnt }) => {
  await app(`mkfifo ${mnt}/fifo`)
  assert.ok(statSync(join(exp, 'fifo')).isFIFO())
  assert.is(await app(`stat -c '%F %u' ${mnt}/fifo`), 'fifo 2000\n')
})

s.test('statfs reports the export file system\'s size (FSSTAT)', async ({ exp, mnt }) => {
  const [mBlocks, mSize] = (await app(`stat -f -c '%b %S' ${mnt}`)).trim().split(' ').map(Number) as [number, number]
  const [eBlocks, eSize] = execFileSync('stat', ['-f', '-c', '%b %S', exp], { encoding: 'utf8' }).trim().split(' ').map(Number) as [number, number]
  assert.ok(mBlocks > 0)
  const mBytes = mBlocks * mSize
  const eBytes = eBlocks * eSize
  assert.ok(Math.abs(mBytes - eBytes) <= Math.max(mSize, eSize), `${mBytes} vs ${eBytes}`)
})

s.test('access(2) asks the server (ACCESS3): readable but not writable for a stranger\'s 0644 file', async ({ exp, mnt }) => {
  writeFileSync(join(exp, 'theirs'), 'x', { mode: 0o644 })
  chownSync(join(exp, 'theirs'), 4321, 4321)
  await app(`printf y > ${mnt}/mine && chmod 600 ${mnt}/mine`)
  assert.is(await app(`test -r ${mnt}/theirs && echo r; test -w ${mnt}/theirs || echo not-w; test -r ${mnt}/mine && test -w ${mnt}/mine && echo rw`), 'r\nnot-w\nrw\n')
})

s.test('ftruncate and fsync on an open file', async ({ exp, mnt }) => {
  const f = join(mnt, 'ft.bin')
  await node(`const fs = require('fs'); const fd = fs.openSync(${JSON.stringify(f)}, 'w');
    fs.writeSync(fd, Buffer.alloc(100000, 7)); fs.ftruncateSync(fd, 12345); fs.fsyncSync(fd);
    fs.writeSync(fd, Buffer.from('end'), 0, 3, 12345); fs.closeSync(fd)`)
  const data = readFileSync(join(exp, 'ft.bin'))
  assert.is(data.length, 12348)
  assert.is(data.subarray(12345).toString(), 'end')
  assert.ok(data.subarray(0, 12345).every((b) => b === 7))
})

s.test('O_CREAT|O_EXCL on an existing name fails with EEXIST', async ({ mnt }) => {
  const f = join(mnt, 'excl')
  const out = await node(`const fs = require('fs'); fs.writeFileSync(${JSON.stringify(f)}, 'a');
    try { fs.openSync(${JSON.stringify(f)}, 'wx'); console.log('opened') } catch (e) { console.log(e.code) }`)
  assert.is(out, 'EEXIST\n')
})

s.test('rename over an existing file replaces it', async ({ exp, mnt }) => {
  await app(`printf old > ${mnt}/target && printf new > ${mnt}/source && mv ${mnt}/source ${mnt}/target`)
  assert.is(readFileSync(join(exp, 'target'), 'utf8'), 'new')
  assert.is(await app(`cat ${mnt}/target; ls ${mnt} | grep -c '^source$' || true`), 'new0\n')
})

s.test('an unlinked file stays usable while open and leaves nothing behind', async ({ exp, mnt }) => {
  const f = join(mnt, 'tmpfile')
  const out = await node(`const fs = require('fs'); const fd = fs.openSync(${JSON.stringify(f)}, 'w+');
    fs.writeSync(fd, 'abc'); fs.unlinkSync(${JSON.stringify(f)}); fs.writeSync(fd, 'def');
    const b = Buffer.alloc(6); fs.readSync(fd, b, 0, 6, 0); console.log(b.toString(), fs.existsSync(${JSON.stringify(f)})); fs.closeSync(fd)`)
  assert.is(out, 'abcdef false\n')
  assert.equal(readdirSync(exp).filter((n) => n.startsWith('.fuse_hidden') || n === 'tmpfile'), [])
})

// Node has no name for ESTALE (116): it reports the errno.
s.test('a handle removed behind our back is ESTALE (not EIO, not ENOENT) on the open file', async ({ exp, mnt }) => {
  writeFileSync(join(exp, 'gone'), 'soon gone')
  chownSync(join(exp, 'gone'), 1234, 1234)
  const f = JSON.stringify(join(mnt, 'gone'))
  const out = await node(`const fs = require('fs'); const fd = fs.openSync(${f}, 'r');
    fs.unlinkSync(${JSON.stringify(join(exp, 'gone'))});
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // past the 20 ms attribute reuse bound
    try { fs.fstatSync(fd); console.log('fstat ok') } catch (e) { console.log('fstat', e.errno) }
    try { fs.readSync(fd, Buffer.alloc(4), 0, 4, 0); console.log('read ok') } catch (e) { console.log('read', e.errno) }
    fs.closeSync(fd)
    try { fs.statSync(${f}); console.log('stat ok') } catch (e) { console.log('stat', e.code) }`)
  assert.is(out, 'fstat -116\nread -116\nstat ENOENT\n')
})

s.test('a read-only mount refuses writes with EROFS and still reads', async ({ g, exp }) => {
  writeFileSync(join(exp, 'ro.txt'), 'read me')
  chownSync(join(exp, 'ro.txt'), 1234, 1234)
  const mnt = makeMountpoint()
  await withMount(nfsSource(exp), mnt, ['-o', `uid=1234,gid=1234,ro,${portOptions(g)}`], async () => {
    assert.is(await app(`cat ${mnt}/ro.txt`), 'read me')
    const w = await runAs(APP, APP, '/bin/sh', ['-c', `printf x >> ${mnt}/ro.txt`])
    assert.is.not(w.code, 0)
    assert.match(w.stderr, /Read-only file system/)
    const c = await runAs(APP, APP, '/bin/sh', ['-c', `touch ${mnt}/new.txt`])
    assert.match(c.stderr, /Read-only file system/)
  })
  assert.is(readFileSync(join(exp, 'ro.txt'), 'utf8'), 'read me')
})

s.test('cache=true mounts and shows server changes after the cache time', async ({ g, exp }) => {
  const mnt = makeMountpoint()
  await withMount(nfsSource(exp), mnt, ['-o', `uid=1234,gid=1234,cache=true,${portOptions(g)}`], async () => {
    await app(`printf 12 > ${mnt}/c.txt`)
    assert.is(await app(`stat -c %s ${mnt}/c.txt`), '2\n')
    writeFileSync(join(exp, 'c.txt'), '12345')
    // Attribute caching is on (3 s): poll until the new size shows, bounded.
    const deadline = Date.now() + 10_000
    let size = ''
    while (Date.now() < deadline && (size = await app(`stat -c %s ${mnt}/c.txt`)) !== '5\n') await new Promise((r) => setTimeout(r, 250))
    assert.is(size, '5\n')
  })
})

s.test('without cache, a change on the server shows on the next stat after the 20 ms reuse bound', async ({ exp, mnt }) => {
  await app(`printf 12 > ${mnt}/nc.txt`)
  assert.is(await app(`stat -c %s ${mnt}/nc.txt`), '2\n')
  writeFileSync(join(exp, 'nc.txt'), '1234567')
  await delay(50)
  assert.is(await app(`stat -c %s ${mnt}/nc.txt`), '7\n')
})

s.run()

// The benchmark's FUSE ceiling (bench/ceiling): the in-memory filesystem, mounted in a child
// process through the same adapter as mapnfs, does what fio and the metadata loads ask of it
// through a real FUSE mount, and unmounts cleanly.
import * as assert from 'uvu/assert'
import { mkdir, open, readFile, readdir, rename, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { startCeiling, type Ceiling } from '../../bench/ceiling/start.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { isMounted } from '../fixtures/proc.js'
import { fixtureSuite } from '../fixtures/suite.js'

interface Ctx { c: Ceiling }

/** The error code P rejects with ('none' when it resolves). */
const codeOf = (p: Promise<unknown>): Promise<string> => p.then(() => 'none', (e: NodeJS.ErrnoException) => e.code ?? String(e))

const s = fixtureSuite<Ctx>('bench FUSE ceiling (memfs)', async (defer) => {
  const c = await startCeiling(makeMountpoint())
  defer(() => c.stop())
  return { c }
})

s.test('files: written data reads back, across chunk boundaries and at offsets', async ({ c }) => {
  const data = randomBytes(3 * 1024 * 1024 + 12345)
  const f = join(c.mountpoint, 'data.bin')
  await writeFile(f, data)
  assert.ok((await readFile(f)).equals(data))
  const h = await open(f, 'r+')
  await h.write(Buffer.from('patch'), 0, 5, 1024 * 1024 - 2)
  await h.close()
  const back = await readFile(f)
  assert.is(back.subarray(1024 * 1024 - 2, 1024 * 1024 + 3).toString(), 'patch')
  assert.is((await stat(f)).size, data.length)
})

s.test('sparse: a file truncated to 1 GiB reads zeros and shrinks again', async ({ c }) => {
  const f = join(c.mountpoint, 'sparse.bin')
  await writeFile(f, 'head')
  await truncate(f, 1024 ** 3)
  assert.is((await stat(f)).size, 1024 ** 3)
  const h = await open(f, 'r')
  const buf = Buffer.alloc(4096, 1)
  const { bytesRead } = await h.read(buf, 0, 4096, 1024 ** 3 - 4096)
  await h.close()
  assert.is(bytesRead, 4096)
  assert.ok(buf.every((b) => b === 0))
  await truncate(f, 2)
  assert.is(await readFile(f, 'utf8'), 'he')
})

s.test('directories: mkdir, readdir, rename, exclusive create, rm -r', async ({ c }) => {
  const d = join(c.mountpoint, 'dir')
  await mkdir(d)
  for (let i = 0; i < 50; i++) await writeFile(join(d, `f${i}`), '', { flag: 'wx' })
  assert.is(await codeOf(writeFile(join(d, 'f0'), '', { flag: 'wx' })), 'EEXIST')
  await rename(join(d, 'f0'), join(d, 'g0'))
  const names = await readdir(d)
  assert.is(names.length, 50)
  assert.ok(names.includes('g0') && !names.includes('f0'))
  await rm(d, { recursive: true })
  assert.is(await codeOf(stat(d)), 'ENOENT')
})

s.test('stop() unmounts', async ({ c }) => {
  assert.ok(isMounted(c.mountpoint))
  await c.stop()
  assert.not.ok(isMounted(c.mountpoint))
})

s.run()

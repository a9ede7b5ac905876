// The kernel-protocol FUSE front end (src/fuse/kernel/) end to end: the in-memory NodeOperations
// mounted through KernelMount in a child process (test/fixtures/kernel-memfs-child.ts), driven
// through the real kernel. Covers the file operations, 1 MiB WRITE requests, and every way a
// mount ends: umount by someone else, SIGTERM (our unmount, also when busy), a fusectl abort, and
// SIGKILL (a dead mount that fusermount -u clears).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { link, lstat, mkdir, open, readFile, readdir, readlink, rename, stat, symlink, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeMountpoint } from '../fixtures/paths.js'
import { isAlive, isMounted, killSync, onExit, run, runOk } from '../fixtures/proc.js'
import { startKernelMemfs } from '../fixtures/kernel-memfs.js'

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** The FUSE connection number of the mount on MP: the minor of its st_dev, from mountinfo (no stat of the mount). */
function connectionOf(mp: string): number {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ')
    if (f[4] === mp) return Number(f[2]!.split(':')[1])
  }
  throw new Error(`${mp} not in mountinfo`)
}

test('file operations through the mount: 3 MiB round trip, mkdir, rename, symlink, hard link, 500 entries, truncate', async () => {
  const mp = makeMountpoint()
  const m = await startKernelMemfs(mp)
  try {
    assert.ok(m.init.granted.includes('DO_READDIRPLUS'))
    assert.is(m.init.reply.maxWrite, 1 << 20)
    const data = randomBytes(3 << 20)
    // One write(2) of 3 MiB (writeFile would cut it into 512 KiB writes): 1 MiB WRITE requests.
    const fh = await open(join(mp, 'big'), 'w')
    await fh.write(data, 0, data.length, 0)
    await fh.close()
    assert.is(sha256(await readFile(join(mp, 'big'))), sha256(data))
    assert.is((await stat(join(mp, 'big'))).size, 3 << 20)

    await mkdir(join(mp, 'd1/d2'), { recursive: true })
    await rename(join(mp, 'big'), join(mp, 'd1/d2/moved'))
    assert.not.ok(existsSync(join(mp, 'big')))
    assert.is(sha256(await readFile(join(mp, 'd1/d2/moved'))), sha256(data))

    await symlink('d1/d2/moved', join(mp, 'sl'))
    assert.is(await readlink(join(mp, 'sl')), 'd1/d2/moved')
    assert.ok((await lstat(join(mp, 'sl'))).isSymbolicLink())
    assert.is((await stat(join(mp, 'sl'))).size, 3 << 20)

    await link(join(mp, 'd1/d2/moved'), join(mp, 'hard'))
    const [a, b] = [await stat(join(mp, 'hard')), await stat(join(mp, 'd1/d2/moved'))]
    assert.is(a.ino, b.ino)
    assert.is(a.nlink, 2)
    assert.is(b.nlink, 2)

    await mkdir(join(mp, 'many'))
    for (let i = 0; i < 500; i++) await writeFile(join(mp, 'many', `f${i}`), `${i}`)
    const ls = await runOk('/bin/ls', ['-1', join(mp, 'many')])
    assert.is(ls.stdout.split('\n').filter(Boolean).length, 500)
    const lsa = await runOk('/bin/ls', ['-1a', join(mp, 'many')])
    assert.is(lsa.stdout.split('\n').filter(Boolean).length, 502) // "." and ".." listed too (never d_ino 0)
    assert.is((await readdir(join(mp, 'many'))).length, 500)

    await truncate(join(mp, 'hard'), 1000)
    assert.is((await stat(join(mp, 'd1/d2/moved'))).size, 1000)
    assert.equal(await readFile(join(mp, 'hard')), data.subarray(0, 1000))

    const s = await m.stats()
    assert.is(s.largestWrite, 1 << 20, '1 MiB WRITE requests arrive')
    assert.is(s.fsLargestWrite, 1 << 20)
  } finally {
    m.kill('SIGTERM')
  }
  const e = await m.exited
  assert.is(e.code, 0, m.stderr())
  assert.not.ok(isMounted(mp))
  m.done()
  assert.not.match(m.stderr(), /unexpected error/)
})

test('invalidations (FUSE_NOTIFY_INVAL_ENTRY/INODE) are taken by the kernel while requests go on', async () => {
  const mp = makeMountpoint()
  const m = await startKernelMemfs(mp)
  try {
    for (let i = 0; i < 20; i++) await writeFile(join(mp, `n${i}`), 'x')
    await readdir(mp, { withFileTypes: true })
    const from = m.stderr().length
    m.kill('SIGUSR1')
    // Requests keep being answered while the notifications are written from the threadpool.
    for (let i = 0; i < 20; i++) assert.is((await stat(join(mp, `n${i}`))).size, 1)
    await m.stats()
    assert.match(m.stderr().slice(from), /notified 20/)
    assert.is((await readdir(mp)).length, 20)
  } finally {
    m.kill('SIGTERM')
  }
  assert.is((await m.exited).code, 0, m.stderr())
  assert.not.match(m.stderr(), /write failed|unexpected error/)
  m.done()
})

test('umount by someone else: the child sees the connection end and exits 0, nothing mounted', async () => {
  const mp = makeMountpoint()
  const m = await startKernelMemfs(mp)
  await writeFile(join(mp, 'f'), 'x')
  await runOk('/usr/bin/umount', [mp])
  const e = await m.exited
  assert.is(e.code, 0, m.stderr())
  assert.match(m.stderr(), /kernel-memfs: closed/)
  assert.not.ok(isMounted(mp))
  m.done()
})

test('SIGTERM while the mount is busy: our unmount still takes it away (lazily), exit 0', async () => {
  const mp = makeMountpoint()
  const m = await startKernelMemfs(mp)
  // A process with its working directory inside keeps the mount busy.
  const holder = spawn('/bin/sleep', ['60'], { cwd: mp, stdio: 'ignore' })
  const deregister = onExit(() => (killSync(holder.pid!) ? `sleep holding ${mp}` : undefined))
  try {
    assert.is((await run('/usr/bin/umount', [mp])).code !== 0, true, 'plain umount refuses a busy mount')
    m.kill('SIGTERM')
    const e = await m.exited
    assert.is(e.code, 0, m.stderr())
    assert.not.ok(isMounted(mp))
    m.done()
  } finally {
    holder.kill('SIGKILL')
    await new Promise((r) => holder.once('exit', r))
    deregister()
  }
})

test('abort through fusectl: the child exits 0 and the dead mount is cleared', async () => {
  const ctl = '/sys/fs/fuse/connections'
  let mountedCtl = false
  if (!readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === ctl)) {
    await runOk('/usr/bin/mount', ['-t', 'fusectl', 'fusectl', ctl])
    mountedCtl = true
  }
  try {
    const mp = makeMountpoint()
    const m = await startKernelMemfs(mp)
    const id = connectionOf(mp)
    await writeFile(join(ctl, String(id), 'abort'), '1')
    const e = await m.exited
    assert.is(e.code, 0, m.stderr())
    assert.match(m.stderr(), /kernel-memfs: closed/)
    assert.not.ok(isMounted(mp))
    m.done()
  } finally {
    if (mountedCtl) await runOk('/usr/bin/umount', [ctl])
  }
})

test('SIGKILL: a dead mount (ENOTCONN) stays until fusermount -u clears it', async () => {
  const mp = makeMountpoint()
  const m = await startKernelMemfs(mp)
  m.kill('SIGKILL')
  const e = await m.exited
  assert.is(e.signal, 'SIGKILL')
  assert.not.ok(isAlive(m.pid))
  assert.ok(isMounted(mp))
  await stat(mp).then(() => assert.unreachable('stat of a dead mount succeeded'), (err: NodeJS.ErrnoException) => assert.is(err.code, 'ENOTCONN'))
  await runOk('/usr/bin/fusermount', ['-u', mp])
  assert.not.ok(isMounted(mp))
  m.done()
})

test.run()

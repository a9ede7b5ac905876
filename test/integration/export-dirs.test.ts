// src/csi/export-dirs.ts against a real nfs-ganesha: the CSI controller's per-volume directories,
// made and removed over NFS as the volume's identity (1234:1234). The export directory is checked
// directly, as root, as the server's ground truth.
import * as assert from 'uvu/assert'
import { chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { freePorts, makeExportDir, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { owner } from '../fixtures/expect.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { ExportDirError, ExportDirs } from '../../src/csi/export-dirs.js'
import { parseSource, type Source } from '../../src/mount/options.js'

const U = 1234
const OTHER = 5678

interface Ctx {
  g: Ganesha
  exp: string
  source: Source
  /** The export as volume identity 1234:1234 and as another one, 5678:5678. */
  a: ExportDirs
  b: ExportDirs
}

const s = fixtureSuite<Ctx>('export-dirs: per-volume directories over NFS as 1234:1234', async (defer) => {
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const source = parseSource(`nfs://127.0.0.1:${g.nfsPort}${exp}?mountport=${g.mountPort}`)
  const a = await ExportDirs.open({ source, uid: U, gid: U })
  defer(() => a.close())
  const b = await ExportDirs.open({ source, uid: OTHER, gid: OTHER })
  defer(() => b.close())
  return { g, exp, source, a, b }
})

/** The ExportDirError P rejects with; fails when it resolves or rejects with anything else. */
async function rejection(p: Promise<unknown>): Promise<ExportDirError> {
  let value: unknown
  try {
    value = await p
  } catch (err) {
    assert.instance(err, ExportDirError, `expected an ExportDirError, got ${String(err)}`)
    const e = err as ExportDirError
    assert.is(e.message.split('\n').length, 1, `message must be one line: ${JSON.stringify(e.message)}`)
    assert.not.match(e.message, /\bat .*:\d+:\d+/, 'stack trace in the message')
    return e
  }
  assert.unreachable(`expected a rejection, got ${JSON.stringify(value)}`)
  throw new Error('unreachable')
}

const exists = (path: string): boolean => lstatSync(path, { throwIfNoEntry: false }) !== undefined
const modeOf = (path: string): number => statSync(path).mode & 0o7777
const esc = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** chown -R 1234:1234 without following links: what an application running as the volume's identity leaves. */
function chownTree(path: string, id: number): void {
  lchownSync(path, id, id)
  if (!lstatSync(path).isDirectory()) return
  for (const n of readdirSync(path)) chownTree(join(path, n), id)
}

s.test('ensureDir creates a directory owned by 1234:1234 with mode 0755; again: created false', async ({ exp, a }) => {
  assert.equal(await a.ensureDir('pvc-1'), { created: true })
  const st = statSync(join(exp, 'pvc-1'))
  assert.ok(st.isDirectory())
  assert.is(owner(join(exp, 'pvc-1')), '1234:1234')
  assert.is(st.mode & 0o7777, 0o755)
  assert.equal(await a.ensureDir('pvc-1'), { created: false })
  assert.is(owner(join(exp, 'pvc-1')), '1234:1234')
  assert.equal(await a.stat('pvc-1'), { type: 'dir', uid: U, gid: U, mode: 0o755 })
})

s.test('ensureDir honours MODE exactly (0750, 0777: no server umask)', async ({ exp, a }) => {
  assert.equal(await a.ensureDir('pvc-750', 0o750), { created: true })
  assert.is(modeOf(join(exp, 'pvc-750')), 0o750)
  assert.equal(await a.ensureDir('pvc-777', 0o777), { created: true })
  assert.is(modeOf(join(exp, 'pvc-777')), 0o777)
})

s.test('a directory owned by 1234 asked for as 5678: EEXIST naming the owner, nothing changed', async ({ exp, a, b }) => {
  await a.ensureDir('pvc-owned')
  const e = await rejection(b.ensureDir('pvc-owned'))
  assert.is(e.code, 'EEXIST')
  assert.is(e.message, `cannot create 'pvc-owned' on 127.0.0.1:${exp}: EEXIST ('pvc-owned' exists and is owned by 1234:1234, not 5678:5678)`)
  assert.is(owner(join(exp, 'pvc-owned')), '1234:1234')
})

s.test('a file in the way: EEXIST, the file untouched', async ({ exp, a }) => {
  writeFileSync(join(exp, 'pvc-file'), 'data')
  chownSync(join(exp, 'pvc-file'), U, U)
  const e = await rejection(a.ensureDir('pvc-file'))
  assert.is(e.code, 'EEXIST')
  assert.match(e.message, new RegExp(`^cannot create 'pvc-file' on 127\\.0\\.0\\.1:${esc(exp)}: EEXIST \\('pvc-file' exists and is a file, owned by 1234:1234\\)$`))
  assert.is(readFileSync(join(exp, 'pvc-file'), 'utf8'), 'data')
  assert.equal(await a.stat('pvc-file'), { type: 'file', uid: U, gid: U, mode: statSync(join(exp, 'pvc-file')).mode & 0o7777 })
  assert.is(await a.stat('no-such-volume'), null)
})

s.test('bad names: EINVAL from every method, nothing sent or created', async ({ exp, a }) => {
  const before = readdirSync(exp).sort()
  const bad = ['', '.', '..', 'a/b', '/abs', 'pvc/', 'nul\0byte', 'x'.repeat(256), 'é'.repeat(128)]
  for (const name of bad) {
    for (const call of [() => a.ensureDir(name), () => a.stat(name), () => a.deleteDir(name, 'delete'), () => a.deleteDir(name, 'archive'), () => a.deleteDir(name, 'retain')]) {
      const e = await rejection(call())
      assert.is(e.code, 'EINVAL', `${JSON.stringify(name)}: ${e.message}`)
      assert.match(e.message, `on 127.0.0.1:${exp}: EINVAL (`)
    }
  }
  assert.equal(readdirSync(exp).sort(), before)
  // The limit is 255 bytes, not less.
  const longest = 'y'.repeat(255)
  assert.equal(await a.ensureDir(longest), { created: true })
  assert.ok(statSync(join(exp, longest)).isDirectory())
})

s.test('an export root 1234 may not write: EACCES naming the identity and the root\'s owner and mode', async ({ exp, a }) => {
  chmodSync(exp, 0o755)
  try {
    const e = await rejection(a.ensureDir('pvc-denied'))
    assert.is(e.code, 'EACCES')
    assert.is(e.message, `cannot create 'pvc-denied' on 127.0.0.1:${exp}: EACCES (uid 1234 gid 1234 may not write the export root, owned by 0:0 with mode 0755)`)
  } finally {
    chmodSync(exp, 0o777)
  }
  assert.not.ok(exists(join(exp, 'pvc-denied')))
})

s.test('a set-gid export root of group 0: the new directory is still 1234:1234 with the mode asked', async ({ exp, a }) => {
  chmodSync(exp, 0o2777)
  try {
    assert.equal(await a.ensureDir('pvc-sgid'), { created: true })
  } finally {
    chmodSync(exp, 0o777)
  }
  assert.is(owner(join(exp, 'pvc-sgid')), '1234:1234')
  assert.is(modeOf(join(exp, 'pvc-sgid')), 0o755)
  assert.equal(await a.ensureDir('pvc-sgid'), { created: false })
})

s.test('deleteDir delete: a tree with nested dirs, 2500 entries and symlinks goes; link targets stay', async ({ exp, a }) => {
  assert.equal(await a.ensureDir('pvc-tree'), { created: true })
  const tree = join(exp, 'pvc-tree')
  // Long names: about 340 entries per READDIRPLUS reply from ganesha, so the listing crosses
  // eight pages; more than the retry rounds for a directory that refills could hide if only the
  // first page of each listing were removed.
  for (let i = 0; i < 2500; i++) writeFileSync(join(tree, `file-with-a-rather-long-name-to-fill-pages-${String(i).padStart(5, '0')}`), String(i))
  mkdirSync(join(tree, 'sub', 'deeper', 'deepest'), { recursive: true })
  writeFileSync(join(tree, 'sub', 'deeper', 'deepest', 'leaf.txt'), 'leaf')
  for (let i = 0; i < 50; i++) writeFileSync(join(tree, 'sub', `s${i}`), 'x')
  mkdirSync(join(tree, 'sub', 'empty'))
  // Links to things outside the volume: removing must never follow them.
  mkdirSync(join(exp, 'outside'))
  writeFileSync(join(exp, 'outside', 'keep.txt'), 'keep')
  symlinkSync('../outside', join(tree, 'link-to-dir'))
  symlinkSync(join(exp, 'outside', 'keep.txt'), join(tree, 'sub', 'link-to-file'))
  symlinkSync('dangling-target', join(tree, 'dangling'))
  chownTree(tree, U)
  chownTree(join(exp, 'outside'), U)
  assert.ok(readdirSync(tree).length > 2500)

  assert.equal(await a.deleteDir('pvc-tree', 'delete'), { removed: true })
  assert.not.ok(exists(tree))
  assert.is(readFileSync(join(exp, 'outside', 'keep.txt'), 'utf8'), 'keep')
  assert.is(await a.stat('pvc-tree'), null)
  // Gone is gone: again is success without removing anything.
  assert.equal(await a.deleteDir('pvc-tree', 'delete'), { removed: false })
})

s.test('deleteDir delete: a file NAME is removed too', async ({ exp, a }) => {
  writeFileSync(join(exp, 'pvc-plain'), 'x')
  chownSync(join(exp, 'pvc-plain'), U, U)
  assert.equal(await a.deleteDir('pvc-plain', 'delete'), { removed: true })
  assert.not.ok(exists(join(exp, 'pvc-plain')))
})

s.test('deleteDir delete that the server refuses part way: EACCES naming the path, one line', async ({ exp, a }) => {
  await a.ensureDir('pvc-locked')
  const locked = join(exp, 'pvc-locked', 'locked')
  mkdirSync(locked, { mode: 0o755 })
  writeFileSync(join(locked, 'root-file'), 'r')
  const e = await rejection(a.deleteDir('pvc-locked', 'delete'))
  assert.is(e.code, 'EACCES')
  assert.is(e.message, `cannot delete 'pvc-locked' on 127.0.0.1:${exp}: EACCES (uid 1234 gid 1234 may not remove pvc-locked/locked/root-file)`)
  assert.ok(exists(join(locked, 'root-file')))
  // What the identity may remove, once it may: the same call now finishes the job.
  chownTree(locked, U)
  assert.equal(await a.deleteDir('pvc-locked', 'delete'), { removed: true })
  assert.not.ok(exists(join(exp, 'pvc-locked')))
})

s.test('deleteDir archive: renamed to archived-NAME, then to archived-NAME-<UTC time> when that exists', async ({ exp, a }) => {
  await a.ensureDir('pvc-arch')
  writeFileSync(join(exp, 'pvc-arch', 'first.txt'), '1')
  assert.equal(await a.deleteDir('pvc-arch', 'archive'), { removed: true, archivedAs: 'archived-pvc-arch' })
  assert.not.ok(exists(join(exp, 'pvc-arch')))
  assert.is(readFileSync(join(exp, 'archived-pvc-arch', 'first.txt'), 'utf8'), '1')
  assert.is(owner(join(exp, 'archived-pvc-arch')), '1234:1234')

  // A new volume of the same name, archived as well; the first archive must not be replaced.
  assert.equal(await a.ensureDir('pvc-arch'), { created: true })
  writeFileSync(join(exp, 'pvc-arch', 'second.txt'), '2')
  const t0 = Date.now()
  const r = await a.deleteDir('pvc-arch', 'archive')
  assert.is(r.removed, true)
  const m = /^archived-pvc-arch-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(r.archivedAs ?? '')
  assert.ok(m, `timestamped name expected, got ${r.archivedAs}`)
  const [, y, mo, d, h, mi, sec] = m!.map(Number)
  const stamped = Date.UTC(y!, mo! - 1, d!, h!, mi!, sec!)
  assert.ok(Math.abs(stamped - t0) < 5000, `the timestamp ${r.archivedAs} is UTC now`)
  assert.is(readFileSync(join(exp, r.archivedAs!, 'second.txt'), 'utf8'), '2')
  assert.is(readFileSync(join(exp, 'archived-pvc-arch', 'first.txt'), 'utf8'), '1')
  assert.not.ok(exists(join(exp, 'pvc-arch')))

  // A third one within the same second still finds a free name instead of replacing the second.
  await a.ensureDir('pvc-arch')
  const third = await a.deleteDir('pvc-arch', 'archive')
  assert.is.not(third.archivedAs, r.archivedAs)
  assert.ok(exists(join(exp, third.archivedAs!)))
  assert.ok(exists(join(exp, r.archivedAs!, 'second.txt')))
})

s.test('deleteDir retain leaves the directory and its content', async ({ exp, a }) => {
  await a.ensureDir('pvc-keep')
  writeFileSync(join(exp, 'pvc-keep', 'data'), 'kept')
  assert.equal(await a.deleteDir('pvc-keep', 'retain'), { removed: false })
  assert.is(readFileSync(join(exp, 'pvc-keep', 'data'), 'utf8'), 'kept')
  assert.is(owner(join(exp, 'pvc-keep')), '1234:1234')
})

s.test('deleteDir of a missing name: removed false, no error, nothing created', async ({ exp, a }) => {
  const before = readdirSync(exp).sort()
  assert.equal(await a.deleteDir('pvc-missing', 'delete'), { removed: false })
  assert.equal(await a.deleteDir('pvc-missing', 'archive'), { removed: false })
  assert.equal(await a.deleteDir('pvc-missing', 'retain'), { removed: false })
  assert.equal(readdirSync(exp).sort(), before)
})

s.test('an unreachable server (closed port) fails open() at once with one clear line', async ({ exp }) => {
  const [closed] = await freePorts(1)
  const t0 = Date.now()
  const e = await rejection(ExportDirs.open({ source: { host: '127.0.0.1', export: exp, port: closed!, mountPort: closed! }, uid: U, gid: U }))
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`)
  assert.is(e.code, 'ECONNREFUSED')
  assert.is(e.message, `cannot open 127.0.0.1:${exp}: ECONNREFUSED (cannot connect to MOUNT server 127.0.0.1 port ${closed}: connection refused)`)
})

s.test('MOUNT answers but the NFS port is closed: ECONNREFUSED naming the NFS server', async ({ g, exp }) => {
  const [closed] = await freePorts(1)
  const e = await rejection(ExportDirs.open({ source: { host: '127.0.0.1', export: exp, port: closed!, mountPort: g.mountPort }, uid: U, gid: U }))
  assert.is(e.code, 'ECONNREFUSED')
  assert.is(e.message, `cannot open 127.0.0.1:${exp}: ECONNREFUSED (cannot connect to NFS server 127.0.0.1 port ${closed}: connection refused)`)
})

s.test('an export the server does not have: EACCES/ENOENT from MNT, one line', async ({ g }) => {
  const e = await rejection(ExportDirs.open({ source: { host: '127.0.0.1', export: '/no/such/export', port: g.nfsPort, mountPort: g.mountPort }, uid: U, gid: U }))
  assert.ok(e.code === 'EACCES' || e.code === 'ENOENT', e.message)
  assert.match(e.message, /^cannot open 127\.0\.0\.1:\/no\/such\/export: E[A-Z]+ \(mount of \/no\/such\/export refused: MNT3ERR_/)
})

s.test('a server that accepts but never answers: ETIMEDOUT within timeoutMs x 3, never a hang', async ({ exp }) => {
  const sockets: Socket[] = []
  const silent: Server = createServer((sock) => { sockets.push(sock) })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const port = (silent.address() as { port: number }).port
  try {
    const t0 = Date.now()
    const e = await rejection(ExportDirs.open({ source: { host: '127.0.0.1', export: exp, port, mountPort: port }, uid: U, gid: U, timeoutMs: 300 }))
    const took = Date.now() - t0
    assert.ok(took >= 800 && took < 3000, `took ${took} ms`)
    assert.is(e.code, 'ETIMEDOUT')
    assert.match(e.message, new RegExp(`^cannot open 127\\.0\\.0\\.1:${esc(exp)}: ETIMEDOUT \\(MOUNT server 127\\.0\\.0\\.1 port ${port} did not answer MNT within \\d+\\.\\d s\\)$`))
  } finally {
    for (const sock of sockets) sock.destroy()
    await new Promise<void>((resolve) => silent.close(() => resolve()))
  }
})

s.test('after close(): calls fail with EIO, close() again resolves', async ({ source }) => {
  const c = await ExportDirs.open({ source, uid: U, gid: U })
  await c.close()
  await c.close()
  const e = await rejection(c.stat('pvc-1'))
  assert.is(e.code, 'EIO')
  assert.match(e.message, /closed/)
})

// Last: it freezes the server.
s.test('a server that stops answering: calls fail with ETIMEDOUT, close() still finishes', async ({ g, source }) => {
  const c = await ExportDirs.open({ source, uid: U, gid: U, timeoutMs: 400 })
  g.freeze()
  try {
    const t0 = Date.now()
    const e = await rejection(c.ensureDir('pvc-frozen'))
    assert.ok(Date.now() - t0 < 4000, `took ${Date.now() - t0} ms`)
    assert.is(e.code, 'ETIMEDOUT')
    assert.match(e.message, /^cannot create 'pvc-frozen' on 127\.0\.0\.1:\S+: ETIMEDOUT \(NFS server 127\.0\.0\.1 port \d+ did not answer LOOKUP within \d+\.\d s\)$/)
    const t1 = Date.now()
    await c.close()
    assert.ok(Date.now() - t1 < 5000, `close() took ${Date.now() - t1} ms`)
  } finally {
    g.thaw()
  }
})

s.run()

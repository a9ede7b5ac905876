// Every bad input fails the way users are promised: non-zero exit, exactly one stderr line starting
// `mapnfs: ` (no stack trace), and nothing left mounted. The texts users already know
// (identity-contract.md) are matched where the contract gives them.
import * as assert from 'uvu/assert'
import { chmodSync, chownSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePorts, makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint, makeTempDir } from '../fixtures/paths.js'
import { cliReadableBy, mountCli, mountCount, requireCli, runAs, runCli, shAs } from '../fixtures/mount.js'
import { assertCleanFailure } from '../fixtures/expect.js'
import { fixtureSuite } from '../fixtures/suite.js'

interface Ctx {
  g: Ganesha
  open: string
  denied: string
  locked: string
}

const s = fixtureSuite<Ctx>('bad inputs fail cleanly', async (defer) => {
  requireCli()
  const open = makeExportDir()
  const denied = makeExportDir()
  const locked = makeExportDir()
  // Export root only uid 4321 can read: a mount as 1234 must be refused at mount time.
  chownSync(locked, 4321, 4321)
  chmodSync(locked, 0o700)
  const g = await startGanesha({
    exports: [
      { path: open },
      // ganesha answers MNT3ERR_ACCES to a client its CLIENT block does not list (checked with
      // nfs-ls in ganesha-fixture.test.ts).
      { path: denied, clients: '127.0.0.2' },
      { path: locked },
    ],
  })
  defer(() => g.stop())
  return { g, open, denied, locked }
})

/** `-o uid=1234,gid=1234,nfsport=P,mountport=M[,EXTRA]`. */
const opts = (g: Ganesha, extra?: string): string[] => ['-o', `uid=1234,gid=1234,${portOptions(g)}${extra ? `,${extra}` : ''}`]

for (const source of ['nfs://', 'not a source', 'nfs://127.0.0.1', 'ftp://127.0.0.1/export', ':/export']) {
  s.test(`unparsable source ${JSON.stringify(source)}`, async ({ g }) => {
    const mnt = makeMountpoint()
    assertCleanFailure(await runCli(['mount', source, mnt, ...opts(g)]), mnt)
  })
}

s.test('empty host: Invalid \'share\' option', async ({ g }) => {
  const mnt = makeMountpoint()
  assertCleanFailure(await runCli(['mount', 'nfs:///export', mnt, ...opts(g)]), mnt, "Invalid 'share' option")
})

s.test('unreachable server (closed loopback ports) fails fast, under 10 s', async () => {
  const [nfsPort, mountPort] = (await freePorts(2)) as [number, number]
  const mnt = makeMountpoint()
  const t0 = Date.now()
  const r = await runCli(['mount', nfsSource('/export'), mnt, '-o', `uid=1234,gid=1234,nfsport=${nfsPort},mountport=${mountPort}`], { timeoutMs: 20_000 })
  const elapsed = Date.now() - t0
  assertCleanFailure(r, mnt)
  assert.ok(elapsed < 10_000, `took ${elapsed} ms`)
})

s.test('MNT3ERR_ACCES (client not in the export\'s CLIENT list)', async ({ g, denied }) => {
  const mnt = makeMountpoint()
  assertCleanFailure(await runCli(['mount', nfsSource(denied), mnt, ...opts(g)]), mnt)
})

s.test('export that does not exist on the server', async ({ g }) => {
  const mnt = makeMountpoint()
  assertCleanFailure(await runCli(['mount', nfsSource('/no/such/export'), mnt, ...opts(g)]), mnt)
})

s.test('uid/gid cannot read the export root: user lacks read access to share', async ({ g, locked }) => {
  const mnt = makeMountpoint()
  assertCleanFailure(await runCli(['mount', nfsSource(locked), mnt, ...opts(g)]), mnt, 'user lacks read access to share')
})

s.test('missing privileges: run as local uid 2000', async ({ g, open }) => {
  // A CLI uid 2000 can load, so that the failure below is about privileges, not about reading it.
  const cli = await cliReadableBy(2000, 2000)
  const mnt = makeTempDir('mnt-2000')
  chownSync(mnt, 2000, 2000)
  const r = await runAs(2000, 2000, process.execPath, [cli, 'mount', nfsSource(open), mnt, ...opts(g)], { timeoutMs: 30_000 })
  assertCleanFailure({ ...r, mounted: /^mapnfs: mounted /m.test(r.stdout) }, mnt, /permission denied: mapnfs must run as root/)
})

s.test('missing mount point', async ({ g, open }) => {
  const mnt = join(makeTempDir('gone'), 'does-not-exist')
  assertCleanFailure(await runCli(['mount', nfsSource(open), mnt, ...opts(g)]), mnt)
})

s.test('mount point is not a directory', async ({ g, open }) => {
  const file = join(makeTempDir('file'), 'regular-file')
  writeFileSync(file, 'x')
  assertCleanFailure(await runCli(['mount', nfsSource(open), file, ...opts(g)]), file)
})

s.test('busy mount point: a second mount on it fails, the first keeps working', async ({ g, open }) => {
  const mnt = makeMountpoint()
  const first = await mountCli(nfsSource(open), mnt, opts(g))
  try {
    const r = await runCli(['mount', nfsSource(open), mnt, ...opts(g)])
    assert.not.ok(r.mounted, `second mount succeeded: ${r.stdout}`)
    assert.is(mountCount(mnt), 1, 'exactly the first mount is there')
    const lines = r.stderr.split('\n').filter(Boolean)
    assert.ok(r.code !== 0 && lines.length === 1 && lines[0]!.startsWith('mapnfs: '), `exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`)
    await shAs(2000, 2000, `printf still > ${mnt}/busy.txt && cat ${mnt}/busy.txt`)
  } finally {
    const u = await first.unmount()
    assert.is(u.code, 0, u.stderr)
  }
  assert.is(mountCount(mnt), 0)
})

const optionErrors: [string, string[], string | undefined][] = [
  ['uid=0', ['-o', 'uid=0,gid=1234'], "Invalid 'uid' option (0, negative, or non-integer)"],
  ['--uid 0', ['--uid', '0', '--gid', '1234'], "Invalid 'uid' option (0, negative, or non-integer)"],
  ['uid=-5', ['-o', 'uid=-5,gid=1234'], "Invalid 'uid' option (0, negative, or non-integer)"],
  ['uid=12.5', ['-o', 'uid=12.5,gid=1234'], "Invalid 'uid' option (0, negative, or non-integer)"],
  ['uid=abc', ['-o', 'uid=abc,gid=1234'], "Invalid 'uid' option (0, negative, or non-integer)"],
  ['gid=0', ['-o', 'uid=1234,gid=0'], "Invalid 'gid' option (0, negative, or non-integer)"],
  ['uid without gid', ['-o', 'uid=1234'], "required 'gid' option is missing"],
  ['cache=maybe', ['-o', 'uid=1234,gid=1234,cache=maybe'], "Invalid 'cache' option"],
  ['version=3.1', ['-o', 'uid=1234,gid=1234,version=3.1'], 'NFSv3 does not use minor versions'],
  ['version=0', ['-o', 'uid=1234,gid=1234,version=0'], '"version" must be a positive numeric value'],
  ['version=abc', ['-o', 'uid=1234,gid=1234,version=abc'], '"version" must be a positive numeric value'],
  ['version=4.1', ['-o', 'uid=1234,gid=1234,version=4.1'], undefined],
  ['unknown -o option', ['-o', 'uid=1234,gid=1234,frobnicate=1'], undefined],
  ['unknown --flag', ['--uid', '1234', '--gid', '1234', '--frobnicate'], undefined],
]

for (const [name, args, text] of optionErrors) {
  s.test(`option error: ${name}`, async ({ g, open }) => {
    const mnt = makeMountpoint()
    const ports = ['--nfsport', String(g.nfsPort), '--mountport', String(g.mountPort)]
    const line = assertCleanFailure(await runCli(['mount', nfsSource(open), mnt, ...args, ...ports]), mnt, text)
    if (name.startsWith('unknown')) assert.match(line, /frobnicate/, 'the message names the unknown option')
  })
}

s.test('usage errors: unknown command, missing arguments', async () => {
  for (const args of [[], ['frobnicate'], ['mount'], ['mount', 'nfs://127.0.0.1/export'], ['unmount']]) {
    assertCleanFailure(await runCli(args))
  }
})

s.test('--help exits 0 and describes both commands', async () => {
  const r = await runCli(['--help'])
  assert.is(r.code, 0, r.stderr)
  assert.match(r.stdout + r.stderr, /mount/)
  assert.match(r.stdout + r.stderr, /unmount/)
})

s.run()

// fsx-style random operations on one file through the mount, checked against an in-memory model
// after every read and at the end on the export itself: overlapping writes, extending and
// shrinking truncates, holes, reopen, fsync. Seeded, so a failure replays. Runs with attribute
// caching off (the default) and on (`cache`: the kernel keeps attributes and pages 3 s).
//
// Then the same with test/fixtures/fsx.c, which reaches what node cannot: copy_file_range,
// fallocate, reads and writes through a shared mmap, sequential read runs that start readahead,
// and two descriptors on the file (the kernel writes mmap'ed pages through either).
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsSource, portOptions, startGanesha } from '../fixtures/ganesha.js'
import { makeMountpoint, makeTempDir } from '../fixtures/paths.js'
import { mountCli, requireCli, runAs, type MountedCli } from '../fixtures/mount.js'
import { buildFsx } from '../fixtures/fsx.js'
import { fixtureSuite } from '../fixtures/suite.js'

const APP = 2000
const OPS = 3000
const MAX_SIZE = 2 * 1024 * 1024

const s = fixtureSuite<{ exp: string; mnts: Record<'plain' | 'cache', MountedCli>; fsx: string; models: string }>('random operations against a model', async (defer) => {
  requireCli()
  const fsx = buildFsx()
  const models = makeTempDir('fsx-models', 0o777)
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const mount = async (extra: string): Promise<MountedCli> => {
    const m = await mountCli(nfsSource(exp), makeMountpoint(), ['-o', `uid=1234,gid=1234,${portOptions(g)}${extra}`])
    defer(async () => {
      const u = await m.unmount()
      if (u.code !== 0) throw new Error(`mapnfs exited ${u.code}: ${u.stderr}`)
    })
    return m
  }
  return { exp, mnts: { plain: await mount(''), cache: await mount(',cache') }, fsx, models }
})

// Runs in the application's process (uid 2000); prints the final model's length and a hash.
const SCRIPT = (file: string, seed: number): string => `
const fs = require('fs'); const crypto = require('crypto');
let x = ${seed} >>> 0; const rnd = (n) => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % n };
let model = Buffer.alloc(0); let fd = fs.openSync(${JSON.stringify(file)}, 'w+');
const fail = (i, what) => { console.error('op ' + i + ': ' + what); process.exit(1) };
for (let i = 0; i < ${OPS}; i++) {
  const op = rnd(100);
  if (op < 45) {
    const off = rnd(${MAX_SIZE}); const len = 1 + rnd(rnd(4) === 0 ? 300000 : 5000);
    const data = crypto.randomBytes(len); data[0] = i & 0xff;
    if (fs.writeSync(fd, data, 0, len, off) !== len) fail(i, 'short write');
    if (off + len > model.length) { const n = Buffer.alloc(off + len); model.copy(n); model = n }
    data.copy(model, off);
  } else if (op < 80) {
    const off = rnd(model.length + 1000); const len = 1 + rnd(200000);
    const buf = Buffer.alloc(len); const n = fs.readSync(fd, buf, 0, len, off);
    const want = model.subarray(Math.min(off, model.length), Math.min(off + len, model.length));
    if (n !== want.length) fail(i, 'read ' + n + ' bytes at ' + off + ', model has ' + want.length);
    if (!buf.subarray(0, n).equals(want)) fail(i, 'data differs at ' + off);
  } else if (op < 90) {
    const size = rnd(${MAX_SIZE}); fs.ftruncateSync(fd, size);
    if (size < model.length) model = Buffer.from(model.subarray(0, size)); else { const n = Buffer.alloc(size); model.copy(n); model = n }
  } else if (op < 95) {
    fs.fsyncSync(fd);
  } else {
    fs.closeSync(fd); fd = fs.openSync(${JSON.stringify(file)}, 'r+');
    if (fs.fstatSync(fd).size !== model.length) fail(i, 'size ' + fs.fstatSync(fd).size + ' after reopen, model ' + model.length);
  }
}
fs.closeSync(fd);
console.log(model.length + ' ' + crypto.createHash('sha256').update(model).digest('hex'));
`

for (const [seed, kind] of [[1, 'plain'], [20260101, 'plain'], [7, 'cache'], [20261201, 'cache']] as const) {
  s.test(`seed ${seed}, ${kind === 'cache' ? 'cache on' : 'cache off'}: ${OPS} random writes/reads/truncates/fsyncs/reopens match the model`, async ({ exp, mnts }) => {
    const mnt = mnts[kind].mountpoint
    const name = `fsx-${seed}.bin`
    const r = await runAs(APP, APP, process.execPath, ['-e', SCRIPT(join(mnt, name), seed)], { timeoutMs: 240_000 })
    assert.is(r.code, 0, r.stderr)
    const [len, hash] = r.stdout.trim().split(' ')
    const onServer = readFileSync(join(exp, name))
    assert.is(String(onServer.length), len)
    const { createHash } = await import('node:crypto')
    assert.is(createHash('sha256').update(onServer).digest('hex'), hash)
  })
}

/** fsx.c operations per run: about 12 s each here (three runs per engine keep the suite short). */
const FSX_OPS = 6_000
/** fsx.c's file size bound: 1 MiB, one READ of rsize, so short chunks at EOF are common. */
const FSX_MAX_SIZE = 1024 * 1024

for (const [seed, kind] of [[3, 'plain'], [13, 'cache'], [20261204, 'cache']] as const) {
  s.test(`fsx seed ${seed}, ${kind === 'cache' ? 'cache on' : 'cache off'}: ${FSX_OPS} writes/reads/sequential reads/truncates/copy_file_range/fallocate/mmap on two descriptors match the model`, async ({ exp, mnts, fsx, models }) => {
    const m = mnts[kind]
    const name = `fsx-c-${seed}.bin`
    const model = join(models, `${seed}.model`)
    const from = m.stderr().length
    const r = await runAs(APP, APP, fsx, [join(m.mountpoint, name), String(seed), String(FSX_OPS), String(FSX_MAX_SIZE), model], { timeoutMs: 300_000 })
    assert.is(r.code, 0, r.stderr)
    // Every kind of operation ran (fallocate may be refused: NFSv3 cannot allocate).
    assert.match(r.stdout, /^ops=\d+ fallocate=(supported|unsupported) copies=[1-9]\d* mmaps=[1-9]\d*$/m)
    const onServer = readFileSync(join(exp, name))
    const want = readFileSync(model)
    assert.is(onServer.length, want.length)
    assert.ok(onServer.equals(want), 'the file on the server differs from the model')
    // A read the kernel's own readahead absorbed still leaves its trace here.
    assert.not.match(m.stderr().slice(from), /unexpected error/)
  })
}

s.run()

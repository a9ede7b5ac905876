// 64-bit inode numbers from a real server: nfs-ganesha exports a loop-mounted XFS image whose
// inode numbers go past 2^32 (test/fixtures/xfs.ts). st_ino through the mount must be the
// server's fileid exactly; the old binding folded it to 32 bits (low ^ high), which made
// distinct files look like hard links to find -samefile, tar, rsync -H and du.
import * as assert from 'uvu/assert'
import { readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { nfsSource, portOptions, startGanesha } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { mountCli, requireCli, shAs, type MountedCli } from '../fixtures/mount.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { mountXfsImage } from '../fixtures/xfs.js'

const APP = 2000
const TWO_32 = 2n ** 32n

interface Ctx {
  exp: string
  mnt: string
  m: MountedCli
  /** Every entry below the export root (relative path) with its st_ino on the export. */
  inodes: Map<string, bigint>
}

/** The 32-bit fold the old binding applied to a fileid. */
const fold = (ino: bigint): bigint => (ino ^ (ino >> 32n)) & 0xffffffffn

const s = fixtureSuite<Ctx>('64-bit inode numbers from an XFS export', async (defer) => {
  requireCli()
  const xfs = await mountXfsImage()
  defer(() => xfs.remove())
  const exp = xfs.dir
  // Directories spread across the allocation groups; each file lands in its directory's group.
  for (let i = 1; i <= 8; i++) {
    mkdirSync(join(exp, `d${i}`))
    writeFileSync(join(exp, `d${i}`, 'f'), `file ${i}\n`)
  }
  const inodes = new Map<string, bigint>()
  for (const rel of readdirSync(exp, { recursive: true }) as string[]) {
    inodes.set(rel, statSync(join(exp, rel), { bigint: true }).ino)
  }
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const mnt = makeMountpoint()
  const m = await mountCli(nfsSource(exp), mnt, ['-o', `uid=1234,gid=1234,${portOptions(g)}`])
  defer(async () => {
    const u = await m.unmount()
    if (u.code !== 0) throw new Error(`mapnfs exited ${u.code}: ${u.stderr}`)
  })
  return { exp, mnt, m, inodes }
})

/** `stat -c '%i'` of each of RELS through the mount, as the application. */
async function mountInodes(mnt: string, rels: string[]): Promise<Map<string, bigint>> {
  const quoted = rels.map((r) => `'${join(mnt, r)}'`).join(' ')
  const out = await shAs(APP, APP, `stat -c '%i %n' ${quoted}`)
  const m = new Map<string, bigint>()
  for (const line of out.trim().split('\n')) {
    const sp = line.indexOf(' ')
    m.set(line.slice(sp + 1).slice(mnt.length + 1), BigInt(line.slice(0, sp)))
  }
  return m
}

s.test('the export really has inode numbers >= 2^32 (precondition)', ({ inodes }) => {
  const wide = [...inodes.values()].filter((i) => i >= TWO_32)
  assert.ok(wide.length >= 4, `expected several inode numbers >= 2^32 on the XFS export, got ${[...inodes.values()].join(' ')}`)
})

s.test('stat -c %i through the mount equals the export\'s st_ino for every entry', async ({ mnt, inodes }) => {
  const rels = [...inodes.keys()]
  const seen = await mountInodes(mnt, rels)
  for (const rel of rels) assert.is(seen.get(rel), inodes.get(rel), rel)
})

s.test('two entries whose 32-bit folds collide keep distinct inode numbers; find -samefile finds only itself', async ({ mnt, inodes }) => {
  const byFold = new Map<bigint, string>()
  let pair: [string, string] | undefined
  for (const [rel, ino] of inodes) {
    const other = byFold.get(fold(ino))
    if (other !== undefined) {
      pair = [other, rel]
      break
    }
    byFold.set(fold(ino), rel)
  }
  assert.ok(pair, `no two entries of the fixture fold to the same 32 bits: ${[...inodes].map(([r, i]) => `${r}=${i}`).join(' ')}`)
  const [a, b] = pair!
  assert.is(fold(inodes.get(a)!), fold(inodes.get(b)!))
  assert.is.not(inodes.get(a), inodes.get(b))

  const seen = await mountInodes(mnt, [a, b])
  assert.is(seen.get(a), inodes.get(a), a)
  assert.is(seen.get(b), inodes.get(b), b)
  assert.is.not(seen.get(a), seen.get(b))
  for (const x of [a, b]) {
    const found = await shAs(APP, APP, `find '${mnt}' -samefile '${join(mnt, x)}'`)
    assert.is(found, `${join(mnt, x)}\n`, `find -samefile ${x}`)
  }
})

s.run()

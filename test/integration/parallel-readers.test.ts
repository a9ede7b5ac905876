// 16 readers at once must overlap on the wire: the known implementations kept one RPC in flight
// and slowed to timeouts under concurrent load (identity-contract.md, lacks #1). The CLI's `stats`
// option reports the most RPCs it had in flight on the connection; a serialized client shows 1.
import * as assert from 'uvu/assert'
import { createHash, randomFillSync } from 'node:crypto'
import { chownSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { mountCli, requireCli, shAs } from '../fixtures/mount.js'
import { fixtureSuite } from '../fixtures/suite.js'

const READERS = 16
/** 8 MiB each: enough reads per file (64 x 128 KiB FUSE reads) for the readers to overlap. */
const FILE_SIZE = 8 * 1024 * 1024

interface Ctx { g: Ganesha; exp: string; sums: string[] }

const s = fixtureSuite<Ctx>('16 parallel readers', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  const sums: string[] = []
  const buf = Buffer.alloc(FILE_SIZE)
  for (let i = 0; i < READERS; i++) {
    randomFillSync(buf)
    const f = join(exp, `r${i}.bin`)
    writeFileSync(f, buf, { mode: 0o644 })
    chownSync(f, 1234, 1234)
    sums.push(createHash('sha256').update(buf).digest('hex'))
  }
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  return { g, exp, sums }
})

s.test('overlap on the connection: stats maxInFlight >= 4, all data intact', async ({ g, exp, sums }) => {
  const mnt = makeMountpoint()
  const m = await mountCli(nfsSource(exp), mnt, ['-o', `uid=1234,gid=1234,${portOptions(g)},stats`])
  let out = ''
  let u: { code: number; stderr: string }
  try {
    // One shell starts all readers in the background, then waits for them. Each prints one short
    // line (below PIPE_BUF), so the shared stdout pipe keeps lines whole.
    const readers = Array.from({ length: READERS }, (_, i) => `sha256sum ${mnt}/r${i}.bin &`)
    out = await shAs(2000, 2000, `${readers.join('\n')}\nwait\n`, { timeoutMs: 180_000 })
  } finally {
    u = await m.unmount()
  }
  assert.is(u.code, 0, `mapnfs exited ${u.code} after SIGTERM: ${u.stderr}`)

  const got = new Map(out.trim().split('\n').map((l) => {
    const [sum = '', path = ''] = l.trim().split(/\s+/)
    return [path, sum] as const
  }))
  for (let i = 0; i < READERS; i++) assert.is(got.get(join(mnt, `r${i}.bin`)), sums[i], `r${i}.bin content`)

  const lines = u.stderr.split('\n').filter((l) => l.startsWith('mapnfs: stats '))
  assert.is(lines.length, 1, `expected one "mapnfs: stats {json}" line on stderr, got: ${JSON.stringify(u.stderr)}`)
  const stats = JSON.parse((lines[0] as string).slice('mapnfs: stats '.length)) as { calls?: unknown; maxInFlight?: unknown }
  assert.type(stats.calls, 'number')
  assert.type(stats.maxInFlight, 'number')
  const calls = stats.calls as number
  const maxInFlight = stats.maxInFlight as number
  assert.ok(calls >= READERS, `calls = ${calls}: fewer RPCs than files read`)
  assert.ok(maxInFlight >= 4, `maxInFlight = ${maxInFlight}: the readers did not overlap on the wire (a serialized client shows 1)`)
})

s.run()

// Write-behind bounds: per file, and across all open files of a mount (WriteBudget).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { OpenFile, WriteBudget } from '../../../src/fuse/open-file.js'
import type { Engine } from '../../../src/engine/index.js'
import { UNSTABLE } from '../../../src/xdr/types.js'

const cred = { auth: { stamp: 1, machine: 'm', uid: 1, gid: 1, gids: [1] }, map: null }

function engine(log: string[], released: Buffer[] = []): Engine {
  return {
    releaseWriteBuffer: (b: Buffer) => { released.push(b) },
    write: async (_c: unknown, fh: Buffer, _o: number, data: Buffer) => {
      log.push(`write ${fh.toString()} ${data.length}`)
      return { status: 0, count: data.length, committed: UNSTABLE, verf: 1n }
    },
    commit: async (_c: unknown, fh: Buffer) => {
      log.push(`commit ${fh.toString()}`)
      return { status: 0, verf: 1n }
    },
  } as unknown as Engine
}

test('writers commit once all files together hold more than the budget', async () => {
  const log: string[] = []
  const e = engine(log)
  const budget = new WriteBudget(1000)
  const a = new OpenFile(Buffer.from('a'), cred, true, () => undefined, budget)
  const b = new OpenFile(Buffer.from('b'), cred, true, () => undefined, budget)
  await a.write(e, 4096, Buffer.alloc(600), 0)
  assert.is(budget.held, 600)
  assert.not.ok(log.some((l) => l.startsWith('commit')))
  await b.write(e, 4096, Buffer.alloc(600), 0)
  assert.ok(log.includes('commit b'), log.join(', '))
  assert.is(budget.held, 600) // b's share committed, a's still held
  await a.commit(e)
  assert.is(budget.held, 0)
})

test('a released file gives its share back even when its COMMIT failed', async () => {
  const budget = new WriteBudget(1 << 20)
  const failing = { ...engine([]), commit: async () => { throw Object.assign(new Error('NOSPC'), { code: 'ERR_NFS3_STATUS', errno: 28 }) } } as unknown as Engine
  const f = new OpenFile(Buffer.from('f'), cred, true, () => undefined, budget)
  await f.write(failing, 4096, Buffer.alloc(100), 0)
  await f.commit(failing).catch(() => undefined)
  assert.is(budget.held, 100, 'kept for a retry after the failure')
  f.discard()
  assert.is(budget.held, 0)
})

test('chunks go back to the engine (releaseWriteBuffer) once their COMMIT succeeded, not before', async () => {
  const released: Buffer[] = []
  const e = engine([], released)
  const failing = { ...e, commit: async () => { throw Object.assign(new Error('IO'), { code: 'ERR_NFS3_STATUS', errno: 5 }) } } as unknown as Engine
  const f = new OpenFile(Buffer.from('f'), cred, true, () => undefined)
  const data = Buffer.alloc(300)
  await f.write(e, 4096, data, 0)
  assert.is(released.length, 0, 'kept until committed')
  await f.commit(failing).catch(() => undefined)
  assert.is(released.length, 0, 'a failed COMMIT keeps them for the next attempt')
  await f.commit(e)
  assert.is(released.length, 1)
  assert.is(released[0]!.buffer, data.buffer)
  assert.is(released[0]!.length, data.length)
})

test.run()

// WriteBehind against a scripted engine whose WRITE replies the test releases by hand: coalescing,
// calls in flight, bounds, ordering of overlapping writes, failures reported later, budgets.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WriteBehind, WriteBudget, DIRTY_LIMIT, COMMIT_START, COMMIT_LIMIT } from '../../../src/fuse/write-behind.js'
import type { Engine } from '../../../src/engine/index.js'
import { FILE_SYNC, UNSTABLE } from '../../../src/xdr/types.js'

const cred = { auth: { stamp: 1, machine: 'm', uid: 1, gid: 1, gids: [1] }, map: null }
const FH = Buffer.from('fh')

interface Sent { offset: number; data: Buffer; stable: number; answer: (err?: Error) => void }

/** An engine whose WRITEs wait until the test answers them; the "server" file is `disk`. */
function scripted(opts: { autoAnswer?: boolean; verf?: () => bigint; commitFails?: () => boolean; commitGate?: () => Promise<void> } = {}): { engine: Engine; sent: Sent[]; disk: Buffer; commits: number; released: Buffer[] } {
  const state = { sent: [] as Sent[], disk: Buffer.alloc(64 * 1024 * 1024), commits: 0, released: [] as Buffer[], engine: undefined as unknown as Engine }
  const verf = opts.verf ?? (() => 1n)
  state.engine = {
    allocWriteBuffer: (n: number) => Buffer.alloc(n),
    releaseWriteBuffer: (b: Buffer) => { state.released.push(b) },
    write: (_c: unknown, _fh: Buffer, offset: number, data: Buffer, stable: number) => new Promise((resolve, reject) => {
      const copy = Buffer.from(data)
      const answer = (err?: Error): void => {
        if (err) return reject(err)
        copy.copy(state.disk, offset)
        resolve({ status: 0, count: copy.length, committed: stable === UNSTABLE ? UNSTABLE : FILE_SYNC, verf: verf() })
      }
      state.sent.push({ offset, data: copy, stable, answer })
      if (opts.autoAnswer) answer()
    }),
    commit: async () => {
      if (opts.commitGate) await opts.commitGate()
      if (opts.commitFails?.()) throw Object.assign(new Error('io'), { code: 'ERR_NFS3_STATUS', errno: 5 })
      state.commits++
      return { status: 0, verf: verf() }
    },
  } as unknown as Engine
  return state
}

function make(engine: Engine, extra: { wsize?: number; sync?: boolean; budget?: WriteBudget } = {}): WriteBehind {
  return new WriteBehind(engine, cred, FH, {
    wsize: extra.wsize ?? 1024 * 1024,
    sync: extra.sync ?? false,
    budget: extra.budget ?? new WriteBudget(),
    onRewrite: () => undefined,
    onWritten: () => undefined,
  })
}

const piece = (n: number, fill: number): Buffer => Buffer.alloc(n, fill)

test('sequential 128 KiB writes return before any reply and coalesce into wsize WRITEs, several in flight', async () => {
  const s = scripted()
  const w = make(s.engine)
  for (let i = 0; i < 24; i++) await w.write(piece(128 * 1024, i), i * 128 * 1024)
  // 3 MiB written: the first 128 KiB alone (no sequence yet), then 1 MiB chunks; none answered.
  assert.ok(s.sent.length >= 3, `${s.sent.length} WRITEs`)
  assert.ok(s.sent.slice(1).every((x) => x.data.length === 1024 * 1024 || x === s.sent.at(-1)))
  assert.ok(w.dirty)
  const done = w.sync()
  for (const x of s.sent) x.answer()
  await new Promise((r) => setImmediate(r))
  for (const x of s.sent) x.answer() // the partial last chunk, sent by sync()
  await done
  for (let i = 0; i < 24; i++) assert.ok(s.disk.subarray(i * 131072, (i + 1) * 131072).every((b) => b === i), `piece ${i}`)
  assert.is(s.commits, 1)
})

test('the kernel\'s buffer may be reused as soon as write() resolves (the data was copied)', async () => {
  const s = scripted({ autoAnswer: true })
  const w = make(s.engine)
  const buf = piece(1000, 7)
  await w.write(buf, 0)
  buf.fill(9)
  await w.sync()
  assert.ok(s.disk.subarray(0, 1000).every((b) => b === 7))
})

test('a writer waits once DIRTY_LIMIT bytes are unanswered (backpressure), and goes on when answers come', async () => {
  const s = scripted()
  const w = make(s.engine)
  let offset = 0
  let blocked = false
  while (!blocked) {
    const p = w.write(piece(1024 * 1024, 1), offset)
    offset += 1024 * 1024
    blocked = await Promise.race([p.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 20))])
    if (blocked) {
      assert.ok(offset > DIRTY_LIMIT, `blocked after only ${offset} bytes`)
      s.sent[0]!.answer()
      await p
    }
    assert.ok(offset <= DIRTY_LIMIT + 2 * 1024 * 1024, 'never blocked')
  }
})

test('a failed WRITE is reported at the next write and at fsync (once), never dropped', async () => {
  const s = scripted()
  const w = make(s.engine)
  await w.write(piece(1000, 1), 0)
  const lost = Object.assign(new Error('timed out'), { code: 'ERR_RPC_TIMEOUT', errno: 110 })
  const drained = w.drain()
  s.sent[0]!.answer(lost)
  await drained
  const e1 = await w.write(piece(10, 2), 1000).catch((e: unknown) => e)
  assert.is(e1, lost)
  const e2 = await w.sync().catch((e: unknown) => e)
  assert.is(e2, lost)
  // Reported once at fsync: later syncs succeed again.
  const later = w.sync()
  for (const x of s.sent.slice(1)) x.answer()
  await later
})

test('an overlapping write waits for the WRITE in flight before it; a later rewrite never puts old data over new', async () => {
  let verf = 1n
  const s = scripted({ verf: () => verf })
  const w = make(s.engine, { wsize: 4096 })
  await w.write(piece(4096, 1), 0)
  await w.write(piece(4096, 9), 100 * 4096) // not contiguous: the first chunk goes out
  await w.write(piece(100, 2), 50) // overlaps the first chunk, still in flight
  const drained = w.drain()
  await new Promise((r) => setImmediate(r))
  assert.is(s.sent.filter((x) => x.offset === 50).length, 0, 'sent before the earlier WRITE was answered')
  s.sent[0]!.answer()
  for (let i = 0; i < 5 && s.sent.length < 3; i++) await new Promise((r) => setImmediate(r))
  for (const x of s.sent.slice(1)) x.answer()
  await drained
  assert.ok(s.disk.subarray(50, 150).every((b) => b === 2))
  // The server restarts before the COMMIT: the first chunk is rewritten, minus the bytes overwritten since.
  verf = 2n
  const synced = w.sync()
  await new Promise((r) => setImmediate(r))
  for (let i = 0; i < 10; i++) {
    for (const x of s.sent) if (x.stable === FILE_SYNC) x.answer()
    await new Promise((r) => setImmediate(r))
  }
  await synced
  assert.ok(s.disk.subarray(50, 150).every((b) => b === 2), 'the rewrite put old data over newer data')
  assert.ok(s.disk.subarray(0, 50).every((b) => b === 1))
  assert.ok(s.disk.subarray(150, 4096).every((b) => b === 1))
})

test('write-through (sync): write() resolves only after its WRITE was answered, and rejects with its failure', async () => {
  const s = scripted()
  const w = make(s.engine, { sync: true })
  let resolved = false
  const p = w.write(piece(10, 1), 0).then(() => { resolved = true })
  await new Promise((r) => setTimeout(r, 10))
  assert.not.ok(resolved)
  s.sent[0]!.answer()
  await p
  const q = w.write(piece(10, 1), 10).catch((e: unknown) => e)
  await new Promise((r) => setImmediate(r))
  const fail = Object.assign(new Error('nospc'), { code: 'ERR_NFS3_STATUS', errno: 28 })
  s.sent[1]!.answer(fail)
  assert.is(await q, fail)
})

test('all files of a mount share the budget: past it a writer commits before it returns; discard gives a share back', async () => {
  const s = scripted({ autoAnswer: true })
  const budget = new WriteBudget(1000)
  const a = make(s.engine, { budget })
  await a.write(piece(600, 1), 0)
  await a.drain()
  assert.is(budget.held, 600)
  assert.is(s.commits, 0)
  const b = make(s.engine, { budget })
  await b.write(piece(600, 1), 0)
  assert.is(s.commits, 1, 'b committed its share')
  assert.is(budget.held, 600)
  a.discard()
  assert.is(budget.held, 0)
})

test('a chunk\'s memory goes back to the engine only once its COMMIT succeeded, whole', async () => {
  let failing = true
  const s = scripted({ autoAnswer: true, commitFails: () => failing })
  const w = make(s.engine, { wsize: 64 * 1024 })
  for (let i = 0; i < 4; i++) await w.write(piece(64 * 1024, i), i * 64 * 1024)
  await w.drain()
  assert.is(s.sent.length, 4)
  assert.is(s.released.length, 0, 'acknowledged UNSTABLE: kept for a rewrite')
  await w.sync().then(() => assert.unreachable('COMMIT failed'), () => undefined)
  assert.is(s.released.length, 0, 'a failed COMMIT keeps them for the next attempt')
  failing = false
  await w.sync()
  assert.is(s.released.length, 4)
  for (const b of s.released) assert.is(b.length, 64 * 1024)
  for (let i = 0; i < 4; i++) assert.is(s.disk[i * 64 * 1024 + 100], i, 'the data reached the server')
})

test('a COMMIT starts in the background at COMMIT_START: the writer goes on, and waits only at COMMIT_LIMIT', async () => {
  const MiB = 1024 * 1024
  const gates: (() => void)[] = []
  const s = scripted({ autoAnswer: true, commitGate: () => new Promise<void>((r) => gates.push(r)) })
  const w = make(s.engine, { budget: new WriteBudget(4 * COMMIT_LIMIT) })
  let off = 0
  const writeMiB = async (): Promise<void> => {
    for (let i = 0; i < 8; i++, off += 128 * 1024) await w.write(piece(128 * 1024, 1), off)
    await new Promise((r) => setImmediate(r))
  }
  while (off < COMMIT_START + 2 * MiB) await writeMiB()
  assert.is(gates.length, 1, 'one COMMIT sent in the background')
  // The COMMIT hangs; the writer keeps going up to COMMIT_LIMIT, then waits for it.
  let blocked = true
  const more = (async () => { while (off < COMMIT_LIMIT + 4 * MiB) await writeMiB() })().then(() => { blocked = false })
  for (let i = 0; i < 200 && off < COMMIT_LIMIT; i++) await new Promise((r) => setImmediate(r))
  assert.ok(off >= COMMIT_LIMIT - 2 * MiB, `the writer stopped at ${off / MiB} MiB while the COMMIT was in flight`)
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r))
  assert.ok(blocked && off <= COMMIT_LIMIT + 2 * MiB, `the writer went on to ${off / MiB} MiB past COMMIT_LIMIT`)
  while (gates.length > 0) { gates.shift()!(); await new Promise((r) => setTimeout(r, 1)) }
  const drainGates = setInterval(() => { while (gates.length > 0) gates.shift()!() }, 1)
  await more
  await w.sync()
  clearInterval(drainGates)
  assert.ok(s.commits >= 2)
})

test('a write sent while a COMMIT is in flight is never overwritten by that COMMIT\'s rewrite', async () => {
  let verf = 1n
  let open!: () => void
  const gate = new Promise<void>((r) => { open = r })
  const s = scripted({ autoAnswer: true, verf: () => verf, commitGate: () => gate })
  const w = make(s.engine, { wsize: 4096 })
  await w.write(piece(4096, 1), 0)
  await w.drain()
  const committing = w.commit()
  await new Promise((r) => setImmediate(r))
  // New data over the chunk the COMMIT covers, acknowledged before the COMMIT's reply.
  await w.write(piece(100, 2), 50)
  await w.drain()
  // The server restarted: that COMMIT's verifier differs, so the chunk it covers is rewritten.
  verf = 2n
  open()
  assert.ok(await committing >= 1, 'the chunk was rewritten')
  assert.ok(s.disk.subarray(50, 150).every((b) => b === 2), 'the rewrite put old data over newer data')
  assert.ok(s.disk.subarray(0, 50).every((b) => b === 1))
  await w.sync()
})

test.run()

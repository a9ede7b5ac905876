// instrumentEngine counts what passes through it and changes nothing: results and errors (same
// object, same class, same errno) reach the caller as the engine gave them.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { EngineMetrics, instrumentEngine, LATENCY_BUCKETS, PROCEDURE_NAMES, PROCEDURES, type Engine } from '../../../src/engine/index.js'
import { Nfs3Error } from '../../../src/proto/nfs3/errors.js'

const NFS3ERR_NOENT = 2
const NFS3ERR_ACCES = 13

/** An engine whose calls answer from a table: enough to see what the wrapper counts. */
function tableEngine(): Engine {
  const data = Buffer.alloc(5000, 1)
  const unused = Object.fromEntries(Object.keys(PROCEDURES).map((k) => [k, async () => { throw new Error(`${k} not in the table`) }]))
  return {
    ...unused,
    read: async () => ({ status: 0, count: data.length, eof: false, data }),
    write: async (_c: unknown, _fh: unknown, _off: number, buf: Buffer) => ({ status: 0, count: buf.length - 1, committed: 0, verf: 1n }),
    lookup: async (_c: unknown, _d: unknown, name: string) => {
      if (name === 'missing') throw new Nfs3Error(NFS3ERR_NOENT, 3)
      if (name === 'secret') throw new Nfs3Error(NFS3ERR_ACCES, 3)
      if (name === 'sync-throw') throw new TypeError('bug')
      return { status: 0, fh: Buffer.alloc(8) }
    },
    getattr: () => new Promise((resolve) => setTimeout(() => resolve({ status: 0 }), 30)),
    stats: () => ({ calls: 0, replies: 0, inFlight: 0, byProc: {}, maxInFlight: 0, retransmits: 0, reconnects: 0, majorTimeouts: 0 }),
  } as unknown as Engine
}

test('calls, bytes, errors by errno and latency are counted; results and errors pass unchanged', async () => {
  const m = new EngineMetrics()
  const e = instrumentEngine(tableEngine(), m)
  const cred = {} as never
  const r = await e.read(cred, Buffer.alloc(8), 0, 5000)
  assert.is(r.data!.length, 5000)
  await e.write(cred, Buffer.alloc(8), 0, Buffer.alloc(4096), 0)
  await e.lookup(cred, Buffer.alloc(8), 'here')
  for (const name of ['missing', 'missing', 'secret']) {
    try {
      await e.lookup(cred, Buffer.alloc(8), name)
      assert.unreachable()
    } catch (err) {
      assert.instance(err, Nfs3Error)
    }
  }
  // A synchronous throw is still counted as a finished, failed call (EIO for an error without errno).
  await e.lookup(cred, Buffer.alloc(8), 'sync-throw').then(() => assert.unreachable(), (err: unknown) => assert.instance(err, TypeError))
  const pending = e.getattr(cred, Buffer.alloc(8))
  assert.is(m.snapshot().pending, 1)
  await pending

  const s = m.snapshot()
  assert.equal(s.byProc, { 1: 1, 3: 5, 6: 1, 7: 1 })
  assert.is(s.bytesRead, 5000)
  assert.is(s.bytesWritten, 4095, 'what the server acknowledged, not what was sent')
  assert.equal(s.errors, { ENOENT: 2, EACCES: 1, EIO: 1 })
  assert.equal(s.errorsByProc, { 3: { ENOENT: 2, EACCES: 1, EIO: 1 } })
  assert.is(s.pending, 0)
  const getattr = s.latency[1]!
  assert.is(getattr.count, 1)
  assert.ok(getattr.sumSeconds >= 0.025 && getattr.sumSeconds < 1, String(getattr.sumSeconds))
  assert.is(getattr.buckets.length, LATENCY_BUCKETS.length + 1)
  // 30 ms falls in the (0.025, 0.05] bucket.
  assert.is(getattr.buckets[LATENCY_BUCKETS.indexOf(0.05)], 1)
  assert.is(getattr.buckets.reduce((a, b) => a + b, 0), 1)
  assert.is(s.latency[3]!.count, 5)
})

test('procedure names as RFC 1813 spells them', () => {
  assert.is(PROCEDURE_NAMES[1], 'GETATTR')
  assert.is(PROCEDURE_NAMES[17], 'READDIRPLUS')
  assert.is(PROCEDURE_NAMES[21], 'COMMIT')
})

test.run()

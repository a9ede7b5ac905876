// PooledEngine against a scripted loopback peer: what a real server will not do on demand.
// Calls in flight when close() is called, a soft call timing out in a worker, hard calls waiting
// until setHard(false), and the server status the workers report, once for the whole engine.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RpcClosedError, RpcTimeoutError } from '../../../src/rpc/index.js'
import { PooledEngine, type PooledEngineOptions } from '../../../src/engine/index.js'
import { FATTR_FILE } from '../../vectors/nfs3.js'
import { ACCEPTED_OK, scriptedNfsPeer, type ScriptedNfsPeer } from '../../fixtures/rpc-peer.js'

const cred = { auth: { stamp: 1, machine: 'm', uid: 1234, gid: 1234, gids: [1234] }, map: null }
const FH = Buffer.from('0011223344556677', 'hex')

const opened: (() => Promise<unknown>)[] = []
test.after.each(async () => {
  for (const close of opened.splice(0).reverse()) await close().catch(() => undefined)
})

/** A peer that answers GETATTR when `answering()` says so and otherwise stays silent. */
async function peer(answering: () => boolean): Promise<ScriptedNfsPeer> {
  const p = await scriptedNfsPeer(() => (answering() ? `${ACCEPTED_OK} 00000000 ${FATTR_FILE}` : null))
  opened.push(() => p.close())
  return p
}

async function engine(port: number, o: Partial<PooledEngineOptions> = {}): Promise<PooledEngine> {
  const e = await PooledEngine.open({ host: '127.0.0.1', port, reservedPort: false, timeoutMs: 100, retrans: 1, maxRecord: 1 << 20, reconnect: true, workers: 2, ...o })
  opened.push(() => e.close())
  return e
}

const until = async (cond: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 10_000
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

test('the workers open their connections; calls are answered through them', async () => {
  const p = await peer(() => true)
  const e = await engine(p.port, { nconnect: 2 })
  // The workers have connected when open() resolves; the peer, on this thread, may not have
  // accepted them all yet.
  await until(() => p.connections() >= 4, '2 workers x nconnect 2 connections')
  assert.is(p.connections(), 4, '2 workers x nconnect 2')
  const r = await e.getattr(cred, FH)
  assert.is(r.attr?.size, 4096)
})

test('close() with calls in flight: they fail with RpcClosedError at once, the workers stop, later calls fail too', async () => {
  const p = await peer(() => false)
  const e = await engine(p.port, { hard: true })
  const calls = Array.from({ length: 10 }, () => e.getattr(cred, FH).then(() => 'answered', (err: unknown) => err))
  await until(() => p.calls() === 10, 'the calls to reach the server')
  assert.is(e.stats().inFlight, 10)
  const t0 = Date.now()
  await e.close()
  for (const c of calls) assert.instance(await c, RpcClosedError)
  assert.ok(Date.now() - t0 < 3000, `close took ${Date.now() - t0} ms`)
  assert.is(e.stats().inFlight, 0)
  assert.instance(await e.getattr(cred, FH).catch((x: unknown) => x), RpcClosedError)
})

test('soft: an unanswered call fails with RpcTimeoutError after timeo x (retrans + 1); the server status is reported once', async () => {
  let answer = false
  const p = await peer(() => answer)
  const status: boolean[] = []
  const e = await engine(p.port, { onServerStatus: (up) => status.push(up) })
  const t0 = Date.now()
  const errs = await Promise.all(Array.from({ length: 4 }, () => e.getattr(cred, FH).catch((x: unknown) => x)))
  for (const err of errs) {
    assert.instance(err, RpcTimeoutError)
    assert.is((err as RpcTimeoutError).errno, 110)
    assert.ok((err as RpcTimeoutError).ms >= 200, `failed after ${(err as RpcTimeoutError).ms} ms`)
  }
  assert.ok(Date.now() - t0 < 3000)
  assert.equal(status, [false], 'both workers went silent: one "not responding"')
  answer = true
  // Each worker's silent connection says OK at its next reply: the engine says it once all did.
  await Promise.all(Array.from({ length: 4 }, () => e.getattr(cred, FH)))
  await until(() => status.length === 2, 'the OK')
  assert.equal(status, [false, true])
})

test('hard: calls wait while the server is silent; setHard(false) lets them fail at their next major timeout', async () => {
  const p = await peer(() => false)
  const e = await engine(p.port, { hard: true })
  let settled = false
  const call = e.getattr(cred, FH).catch((x: unknown) => x).finally(() => { settled = true })
  await until(() => e.stats().majorTimeouts >= 2, 'two major timeouts')
  assert.not.ok(settled, 'a hard call failed')
  e.setHard(false)
  assert.instance(await call, RpcTimeoutError)
})

test('a worker that dies: its calls fail with ERR_ENGINE_WORKER (EIO), the other worker serves the calls that follow', async () => {
  let answer = false
  const p = await peer(() => answer)
  const e = await engine(p.port, { hard: true })
  const calls = Array.from({ length: 10 }, () => e.getattr(cred, FH).then(() => 'answered', (err: unknown) => err))
  await until(() => p.calls() === 10, 'the calls to reach the server')
  const victim = e.threads[0]!
  await victim.terminate()
  // The victim's calls fail at once; the survivor's wait (hard) until the server answers.
  const settled = await Promise.race([Promise.any(calls), new Promise((r) => setTimeout(() => r('none'), 5000))])
  assert.instance(settled, Error)
  assert.is((settled as { code?: string }).code, 'ERR_ENGINE_WORKER')
  assert.is((settled as { errno?: number }).errno, 5)
  answer = true
  const results = await Promise.all(calls)
  const failed = results.filter((r) => r !== 'answered')
  assert.ok(failed.length >= 1 && failed.length <= 9, `${failed.length} of 10 failed: one worker's share`)
  for (const f of failed) assert.is((f as { code?: string }).code, 'ERR_ENGINE_WORKER')
  for (let i = 0; i < 6; i++) assert.is((await e.getattr(cred, FH)).attr?.size, 4096)
})

test.run()

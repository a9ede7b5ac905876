// RpcConnectionPool (nconnect) against scripted loopback peers: how calls spread over the
// connections, the caps on calls and bytes in flight, and one connection failing while the
// others serve. Each connection's own semantics (retransmit, reconnect, soft/hard) are
// RpcConnection's, tested in connection.test.ts.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as net from 'node:net'
import { RpcConnectionPool, RpcClosedError, RpcTimeoutError, RecordReader, type RpcConnectionPoolOptions } from '../../../src/rpc/index.js'
import { record } from '../../fixtures/rpc-peer.js'

interface Seen { xid: number; body: Buffer; sock: net.Socket; conn: number }
type Handler = (s: Seen) => void

const opened: (() => Promise<void>)[] = []
test.after.each(async () => {
  for (const close of opened.splice(0).reverse()) await close().catch(() => undefined)
})

/** A peer numbering its connections in the order they arrive (0, 1, ...). */
async function peer(handler: Handler): Promise<{ port: number; sockets: net.Socket[]; server: net.Server }> {
  const sockets: net.Socket[] = []
  const server = net.createServer((sock) => {
    const conn = sockets.push(sock) - 1
    sock.on('error', () => undefined)
    const reader = new RecordReader(1 << 20, (msg) => handler({ xid: msg.readUInt32BE(0), body: msg.subarray(4), sock, conn }))
    sock.on('data', (c: Buffer) => reader.push(c))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  opened.push(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy()
    server.close(() => r())
  }))
  return { port: (server.address() as net.AddressInfo).port, sockets, server }
}

async function open(o: Partial<RpcConnectionPoolOptions> & { port: number }): Promise<RpcConnectionPool> {
  const pool = await RpcConnectionPool.open({
    host: '127.0.0.1', reservedPort: false, timeoutMs: 2000, retrans: 2, maxRecord: 1 << 20, reconnect: true, connections: 2, ...o,
  })
  opened.push(() => pool.close())
  return pool
}

function call(pool: RpcConnectionPool, body = 'q', replyBytes = 0): { xid: number; reply: Promise<string> } {
  const xid = pool.nextXid()
  const reply = pool.call(xid, 100003, 1, record(xid, Buffer.from(body)), replyBytes).then((m) => m.subarray(4).toString())
  // A test that failed early leaves calls behind; after.each's close() fails them: not a crash.
  reply.catch(() => undefined)
  return { xid, reply }
}

const answer = (s: Seen, text = `r${s.xid}`): void => { s.sock.write(record(s.xid, Buffer.from(text))) }
const tick = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms))

test('calls spread evenly over the connections; replies match their calls', async () => {
  const held: Seen[] = []
  const p = await peer((s) => { held.push(s) })
  const pool = await open({ port: p.port, connections: 4 })
  const calls = Array.from({ length: 16 }, () => call(pool))
  await tick()
  assert.equal(pool.load().map((l) => l.calls), [4, 4, 4, 4])
  assert.equal([0, 1, 2, 3].map((c) => held.filter((s) => s.conn === c).length), [4, 4, 4, 4], 'calls per socket')
  for (const s of held) answer(s)
  for (const c of calls) assert.is(await c.reply, `r${c.xid}`)
  assert.equal(new Set(calls.map((c) => c.xid)).size, 16, 'xids unique across connections')
  assert.equal(pool.load().map((l) => l.calls), [0, 0, 0, 0])
  assert.is(pool.stats().calls, 16)
  assert.is(pool.stats().replies, 16)
})

test('a new call goes to the connection with the fewest calls in flight', async () => {
  // The connection the first call lands on never answers; the other answers at once.
  const seen: Seen[] = []
  let stuckConn: number | undefined
  const p = await peer((s) => {
    seen.push(s)
    stuckConn ??= s.conn
    if (s.conn !== stuckConn) answer(s)
  })
  const pool = await open({ port: p.port, connections: 2, hard: true })
  const stuck = call(pool).reply.catch((e: unknown) => e)
  await tick()
  for (let i = 0; i < 10; i++) await call(pool).reply
  assert.is(seen.filter((s) => s.conn === stuckConn).length, 1, 'a call went to the connection that had one in flight')
  assert.is(seen.length, 11)
  await pool.close()
  assert.instance(await stuck, RpcClosedError)
})

test('with equal calls in flight, the connection with fewer bytes in flight gets the call', async () => {
  const held: Seen[] = []
  const p = await peer((s) => { held.push(s) })
  const pool = await open({ port: p.port, connections: 2 })
  const calls = [call(pool, 'small', 0), call(pool, 'big', 1 << 20)] // 'big': a READ expecting 1 MiB back
  await tick()
  // One call each; the next goes to the connection holding the small call.
  const small = held.find((s) => s.body.toString() === 'small')!.conn
  assert.is.not(held.find((s) => s.body.toString() === 'big')!.conn, small)
  calls.push(call(pool, 'third', 0))
  await tick()
  assert.is(held.find((s) => s.body.toString() === 'third')!.conn, small)
  for (const s of held) answer(s)
  for (const c of calls) await c.reply
})

test('calls beyond maxCallsInFlight wait in a queue and go out as earlier ones finish', async () => {
  const held: Seen[] = []
  let auto = false
  const p = await peer((s) => {
    held.push(s)
    if (auto) answer(s)
  })
  const pool = await open({ port: p.port, connections: 2, maxCallsInFlight: 3 })
  const calls = Array.from({ length: 7 }, () => call(pool))
  await tick()
  assert.is(held.length, 3, 'only the cap reached the server')
  assert.is(pool.inFlight, 7, 'queued calls count as in flight')
  answer(held[0]!)
  await calls[0]!.reply
  await tick()
  assert.is(held.length, 4, 'one finished, one more went out')
  auto = true
  for (const s of held.slice(1)) answer(s)
  for (const c of calls) assert.is(await c.reply, `r${c.xid}`)
  assert.is(held.length, 7)
  assert.is(pool.stats().maxInFlight, 7)
  assert.is(pool.stats().calls, 7)
})

test('maxBytesInFlight: calls wait for bytes to drain; a call larger than the cap still goes, alone', async () => {
  const held: Seen[] = []
  const p = await peer((s) => { held.push(s) })
  const pool = await open({ port: p.port, connections: 2, maxBytesInFlight: 1000 })
  const a = call(pool, 'a', 600)
  const b = call(pool, 'b', 600)
  await tick()
  assert.equal(held.map((s) => s.body.toString()), ['a'], 'b waits: 600 + 600 > 1000')
  answer(held[0]!)
  await a.reply
  await tick()
  assert.equal(held.map((s) => s.body.toString()), ['a', 'b'])
  answer(held[1]!)
  await b.reply
  const huge = call(pool, 'huge', 5000)
  await tick()
  assert.is(held[2]?.body.toString(), 'huge', 'an oversized call is not stuck forever')
  answer(held[2]!)
  assert.is(await huge.reply, `r${huge.xid}`)
})

test('soft: a call queued behind unanswered ones fails at its own major timeout', async () => {
  const p = await peer(() => undefined)
  const pool = await open({ port: p.port, connections: 1, maxCallsInFlight: 1, timeoutMs: 100, retrans: 1 })
  const t0 = Date.now()
  const first = call(pool).reply.catch((e: unknown) => e)
  const queued = call(pool).reply.catch((e: unknown) => e)
  const [e1, e2] = await Promise.all([first, queued])
  assert.instance(e1, RpcTimeoutError)
  assert.instance(e2, RpcTimeoutError)
  assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`)
})

test('one connection failing: its calls are resent on its fresh socket while the other connection keeps serving', async () => {
  let dropped = false
  const p = await peer((s) => {
    // The first call on connection 0: the "server" drops that connection once.
    if (s.conn === 0 && !dropped) {
      dropped = true
      s.sock.destroy()
      return
    }
    answer(s)
  })
  const pool = await open({ port: p.port, connections: 2 })
  const calls = Array.from({ length: 20 }, () => call(pool))
  for (const c of calls) assert.is(await c.reply, `r${c.xid}`)
  assert.ok(dropped)
  const st = pool.stats()
  assert.is(st.reconnects, 1)
  assert.is(st.replies, 20)
  assert.is(p.sockets.length, 3, 'connection 0 was reopened, connection 1 kept')
})

test('server status: one "not responding" when any connection goes silent, one "OK" once all answer again', async () => {
  let silent = true
  const p = await peer((s) => {
    if (!(s.body.toString() === 'stuck' && silent)) answer(s)
  })
  const status: boolean[] = []
  const pool = await open({ port: p.port, connections: 2, timeoutMs: 100, retrans: 1, hard: true, onServerStatus: (up) => status.push(up) })
  const stuck = call(pool, 'stuck')
  await tick()
  // The connection holding the stuck call hears nothing: it is replaced at each major timeout
  // and the call resent, still unanswered; the other connection serves meanwhile.
  while (pool.stats().majorTimeouts < 2) {
    const other = call(pool)
    assert.is(await other.reply, `r${other.xid}`)
    await tick(50)
  }
  assert.equal(status, [false], 'reported once')
  silent = false
  assert.is(await stuck.reply, `r${stuck.xid}`)
  assert.equal(status, [false, true])
})

test('a connection found silent takes its silent siblings with it: the next call goes out on a fresh socket', async () => {
  // Both first sockets are lost in the network (nothing comes back on them); later ones are fine.
  const p = await peer((s) => { if (s.conn >= 2) answer(s) })
  const pool = await open({ port: p.port, connections: 2, timeoutMs: 100, retrans: 1 })
  assert.instance(await call(pool).reply.catch((e: unknown) => e), RpcTimeoutError)
  // Without the rule the next call would go to the idle sibling, just as dead, and fail as well.
  for (let i = 0; i < 4; i++) {
    const c = call(pool)
    assert.is(await c.reply, `r${c.xid}`)
  }
  assert.is(pool.stats().reconnects, 2, 'the silent connection and its idle sibling were both replaced')
})

test('a sibling that is still answering is kept', async () => {
  // The first connection loses one call; everything else is answered.
  let lost: number | undefined
  const p = await peer((s) => {
    if (s.body.toString() === 'lost') lost = s.conn
    else answer(s)
  })
  const pool = await open({ port: p.port, connections: 2, timeoutMs: 300, retrans: 1 })
  const failed = call(pool, 'lost').reply.catch((e: unknown) => e)
  const t0 = Date.now()
  while (Date.now() - t0 < 800) {
    await call(pool).reply
    await tick(50)
  }
  assert.instance(await failed, RpcTimeoutError)
  assert.ok(lost !== undefined)
  await tick(100)
  assert.is(pool.stats().reconnects, 1, 'only the silent connection went')
  assert.not.ok(p.sockets[1 - lost!]!.destroyed, 'the answering sibling is still open')
})

test('close() fails the calls in flight and the queued ones with RpcClosedError', async () => {
  const p = await peer(() => undefined)
  const pool = await open({ port: p.port, connections: 2, maxCallsInFlight: 2, hard: true })
  const calls = Array.from({ length: 5 }, () => call(pool).reply.catch((e: unknown) => e))
  await tick()
  await pool.close()
  for (const c of calls) assert.instance(await c, RpcClosedError)
  assert.instance(await call(pool).reply.catch((e: unknown) => e), RpcClosedError)
})

test('open fails fast with ERR_RPC_CONNECT when the server refuses', async () => {
  const p = await peer(() => undefined)
  await new Promise<void>((r) => p.server.close(() => r()))
  const t0 = Date.now()
  const err = await RpcConnectionPool.open({
    host: '127.0.0.1', port: p.port, reservedPort: false, timeoutMs: 1000, retrans: 1, maxRecord: 4096, reconnect: true, connections: 3,
  }).catch((e: unknown) => e)
  assert.is((err as { code?: string }).code, 'ERR_RPC_CONNECT')
  assert.ok(Date.now() - t0 < 1000)
})

test.run()

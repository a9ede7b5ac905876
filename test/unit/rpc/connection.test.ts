// RpcConnection against a scripted loopback peer: framing, pipelining, timeouts, reconnects.
// (The real server is exercised by the integration tests; these faults are hard to make it
// produce on demand.)
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as net from 'node:net'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RpcConnection, RpcTimeoutError, RpcClosedError, RecordReader } from '../../../src/rpc/index.js'
import { record } from '../../fixtures/rpc-peer.js'

type Handler = (xid: number, body: Buffer, sock: net.Socket, n: number) => void

// Whatever a test opened is closed after it even when an assertion fails (an open socket would
// keep the test process alive forever).
const opened: (() => Promise<void>)[] = []
test.after.each(async () => {
  for (const close of opened.splice(0).reverse()) await close().catch(() => undefined)
})

async function open(o: Parameters<typeof RpcConnection.open>[0]): Promise<RpcConnection> {
  const conn = await RpcConnection.open(o)
  opened.push(() => conn.close())
  return conn
}

async function peer(handler: Handler): Promise<{ port: number; close(): Promise<void>; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>()
  let n = 0
  const server = net.createServer((sock) => {
    sockets.add(sock)
    sock.on('close', () => sockets.delete(sock))
    sock.on('error', () => undefined)
    const reader = new RecordReader(1 << 20, (msg) => handler(msg.readUInt32BE(0), msg.subarray(4), sock, n++))
    sock.on('data', (c: Buffer) => reader.push(c))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as net.AddressInfo).port
  opened.push(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy()
    server.close(() => r())
  }))
  return {
    port,
    sockets,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy()
      server.close(() => r())
    }),
  }
}

const opts = (port: number, extra: Partial<Parameters<typeof RpcConnection.open>[0]> = {}) => ({
  host: '127.0.0.1', port, reservedPort: false, timeoutMs: 2000, retrans: 2, maxRecord: 1 << 20, reconnect: true, ...extra,
})

test('64 calls in flight on one connection, answered in reverse order', async () => {
  const held: [number, net.Socket][] = []
  const p = await peer((xid, _b, sock) => {
    held.push([xid, sock])
    if (held.length === 64) for (const [x, s] of held.reverse()) s.write(record(x, Buffer.from(`r${x}`)))
  })
  const conn = await open(opts(p.port))
  const calls = Array.from({ length: 64 }, () => {
    const xid = conn.nextXid()
    return conn.call(xid, 1, 1, record(xid, Buffer.from('q'))).then((m) => [xid, m.subarray(4).toString()] as const)
  })
  const replies = await Promise.all(calls)
  for (const [xid, body] of replies) assert.is(body, `r${xid}`)
  assert.is(conn.stats().maxInFlight, 64)
  assert.equal(conn.stats().byProc, { 1: 64 })
  await conn.close()
  await p.close()
})

test('an unanswered call is retransmitted, then fails with RpcTimeoutError', async () => {
  let seen = 0
  const p = await peer(() => { seen++ })
  const conn = await open(opts(p.port, { timeoutMs: 150, retrans: 2 }))
  const xid = conn.nextXid()
  const t0 = Date.now()
  const err = await conn.call(xid, 100003, 6, record(xid, Buffer.from('x'))).catch((e: unknown) => e)
  assert.instance(err, RpcTimeoutError)
  assert.is((err as RpcTimeoutError).errno, 110)
  assert.is(seen, 3)
  assert.ok(Date.now() - t0 < 2000)
  await conn.close()
  await p.close()
})

test('a dropped connection is reopened and the pending call resent with its xid', async () => {
  const p = await peer((xid, _b, sock, n) => {
    if (n === 0) sock.destroy() // first delivery: the server "restarts"
    else sock.write(record(xid, Buffer.from('ok')))
  })
  const conn = await open(opts(p.port))
  const xid = conn.nextXid()
  const msg = await conn.call(xid, 1, 1, record(xid, Buffer.from('x')))
  assert.is(msg.readUInt32BE(0), xid)
  assert.is(msg.subarray(4).toString(), 'ok')
  assert.is(conn.stats().reconnects, 1)
  await conn.close()
  await p.close()
})

test('an oversized reply record drops the connection instead of allocating', async () => {
  const p = await peer((xid, _b, sock, n) => {
    if (n === 0) {
      const h = Buffer.alloc(4)
      h.writeUInt32BE(0xffffffff)
      sock.write(h)
    } else {
      sock.write(record(xid, Buffer.from('fine')))
    }
  })
  const conn = await open(opts(p.port, { maxRecord: 4096 }))
  const xid = conn.nextXid()
  const msg = await conn.call(xid, 1, 1, record(xid, Buffer.from('x')))
  assert.is(msg.subarray(4).toString(), 'fine')
  await conn.close()
  await p.close()
})

test('replies with unknown xids are ignored; close() fails pending calls', async () => {
  const p = await peer((xid, _b, sock) => { sock.write(record((xid + 1000) >>> 0, Buffer.alloc(0))) })
  const conn = await open(opts(p.port))
  const xid = conn.nextXid()
  const pending = conn.call(xid, 1, 1, record(xid, Buffer.from('x'))).catch((e: unknown) => e)
  await new Promise((r) => setTimeout(r, 50))
  await conn.close()
  assert.instance(await pending, RpcClosedError)
  await p.close()
})

test('hard: a silent server never fails the call; the connection is replaced at each major timeout until an answer comes', async () => {
  const connections = new Set<net.Socket>()
  let answer = false
  const p = await peer((xid, _b, sock) => {
    connections.add(sock)
    if (answer) sock.write(record(xid, Buffer.from('late')))
  })
  const status: boolean[] = []
  const conn = await open(opts(p.port, { timeoutMs: 100, retrans: 1, hard: true, onServerStatus: (up) => status.push(up) }))
  assert.ok(conn.hard)
  const xid = conn.nextXid()
  let settled = false
  const call = conn.call(xid, 100003, 7, record(xid, Buffer.from('w'))).finally(() => { settled = true })
  // Several major timeouts (200 ms each) pass without the call failing.
  await new Promise((r) => setTimeout(r, 1200))
  assert.not.ok(settled, 'a hard call settled without an answer')
  assert.ok(connections.size >= 2, `only ${connections.size} connection(s): a silent connection was never replaced`)
  assert.equal(status, [false], 'not-responding reported once')
  assert.ok(conn.stats().majorTimeouts >= 2)
  answer = true
  const msg = await call
  assert.is(msg.subarray(4).toString(), 'late')
  assert.equal(status, [false, true], 'recovery reported')
  await conn.close()
  await p.close()
})

test('hard: close() ends a call that is still waiting (RpcClosedError)', async () => {
  const p = await peer(() => undefined)
  const conn = await open(opts(p.port, { timeoutMs: 100, retrans: 0, hard: true }))
  const xid = conn.nextXid()
  const pending = conn.call(xid, 1, 1, record(xid, Buffer.from('x'))).catch((e: unknown) => e)
  await new Promise((r) => setTimeout(r, 500))
  await conn.close()
  assert.instance(await pending, RpcClosedError)
  await p.close()
})

test('setHard(false) lets waiting calls fail at their next major timeout', async () => {
  const p = await peer(() => undefined)
  const conn = await open(opts(p.port, { timeoutMs: 100, retrans: 1, hard: true }))
  const xid = conn.nextXid()
  const pending = conn.call(xid, 1, 1, record(xid, Buffer.from('x'))).catch((e: unknown) => e)
  await new Promise((r) => setTimeout(r, 450))
  conn.setHard(false)
  assert.instance(await pending, RpcTimeoutError)
  await p.close()
})

test('a server that drops every connection at once is redialled with backoff, not in a loop', async () => {
  let accepted = 0
  const server = net.createServer((sock) => { accepted++; sock.destroy() })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as net.AddressInfo).port
  opened.push(() => new Promise<void>((r) => server.close(() => r())))
  const conn = await open(opts(port, { timeoutMs: 100, retrans: 0, hard: true }))
  const xid = conn.nextXid()
  const pending = conn.call(xid, 1, 1, record(xid, Buffer.from('x'))).catch((e: unknown) => e)
  await new Promise((r) => setTimeout(r, 3000))
  // Backoff 50, 100, 200, 400, 800, 1600 ms: about 6 dials in 3 s (one every 50 ms would be 60).
  assert.ok(accepted >= 3 && accepted <= 12, `${accepted} connections in 3 s`)
  await conn.close()
  assert.instance(await pending, RpcClosedError)
})

test('soft: a major timeout says the server is not responding (once), the next reply says it is back', async () => {
  let answer = false
  const p = await peer((xid, _b, sock) => { if (answer) sock.write(record(xid, Buffer.from('ok'))) })
  const status: boolean[] = []
  const conn = await open(opts(p.port, { timeoutMs: 100, retrans: 1, onServerStatus: (up) => status.push(up) }))
  for (let i = 0; i < 2; i++) {
    const xid = conn.nextXid()
    assert.instance(await conn.call(xid, 100003, 1, record(xid, Buffer.from('x'))).catch((e: unknown) => e), RpcTimeoutError)
  }
  assert.equal(status, [false], 'not-responding reported once for two timeouts in a row')
  assert.is(conn.stats().majorTimeouts, 2)
  answer = true
  const xid = conn.nextXid()
  await conn.call(xid, 100003, 1, record(xid, Buffer.from('x')))
  assert.equal(status, [false, true])
  await conn.close()
  await p.close()
})

test('soft: a connection silent for a whole major timeout is replaced, so the next call can succeed on a fresh one', async () => {
  // The first connection is lost somewhere in the network: it stays open and nothing comes back.
  // The server itself is fine: later connections are answered.
  let first: net.Socket | undefined
  const p = await peer((xid, _b, sock) => {
    first ??= sock
    if (sock !== first) sock.write(record(xid, Buffer.from('fresh')))
  })
  const conn = await open(opts(p.port, { timeoutMs: 100, retrans: 1 }))
  const x1 = conn.nextXid()
  assert.instance(await conn.call(x1, 100003, 1, record(x1, Buffer.from('x'))).catch((e: unknown) => e), RpcTimeoutError)
  const x2 = conn.nextXid()
  const msg = await conn.call(x2, 100003, 1, record(x2, Buffer.from('x')))
  assert.is(msg.subarray(4).toString(), 'fresh')
  assert.is(conn.stats().reconnects, 1)
  await conn.close()
  await p.close()
})

test('soft: a connection that still answers other calls is kept when one call times out', async () => {
  const conns = new Set<net.Socket>()
  const p = await peer((xid, body, sock) => {
    conns.add(sock)
    if (body.toString() !== 'lost') sock.write(record(xid, Buffer.from('ok')))
  })
  const conn = await open(opts(p.port, { timeoutMs: 200, retrans: 1 }))
  const lost = conn.nextXid()
  const failed = conn.call(lost, 100003, 1, record(lost, Buffer.from('lost'))).catch((e: unknown) => e)
  // Replies to other calls keep arriving during the lost call's whole major timeout.
  const t0 = Date.now()
  while (Date.now() - t0 < 500) {
    const xid = conn.nextXid()
    await conn.call(xid, 100003, 1, record(xid, Buffer.from('q')))
    await new Promise((r) => setTimeout(r, 50))
  }
  assert.instance(await failed, RpcTimeoutError)
  assert.is(conns.size, 1, 'a connection that answers was replaced')
  assert.is(conn.stats().reconnects, 0)
  await conn.close()
  await p.close()
})

test('soft: the timeout error says why the connection was lost while the call waited', async () => {
  const server = net.createServer((sock) => sock.destroy())
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as net.AddressInfo).port
  opened.push(() => new Promise<void>((r) => server.close(() => r())))
  const conn = await open(opts(port, { timeoutMs: 100, retrans: 1 }))
  const xid = conn.nextXid()
  const err = await conn.call(xid, 100003, 19, record(xid, Buffer.from('x'))).catch((e: unknown) => e)
  assert.instance(err, RpcTimeoutError)
  assert.match((err as RpcTimeoutError).lastDrop ?? '', /the server (closed|reset) the connection/)
  assert.match((err as Error).message, /timed out after \d+ ms \(the server (closed|reset) the connection\)$/)
  await conn.close()
})

test('a pending call keeps the process alive while it waits for a reconnect (it settles, the process does not just exit)', () => {
  // In a process with nothing else to do (the CLI while mounting), against a server that drops
  // every connection: between dials only our own timers are left. The call must still settle.
  const connection = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src', 'rpc', 'index.ts')
  const script = `
    import * as net from 'node:net'
    import { RpcConnection } from ${JSON.stringify(connection)}
    const server = net.createServer((s) => s.destroy())
    server.listen(0, '127.0.0.1', async () => {
      server.unref()
      const conn = await RpcConnection.open({ host: '127.0.0.1', port: server.address().port, reservedPort: false, timeoutMs: 100, retrans: 1, maxRecord: 4096, reconnect: true })
      const rec = Buffer.alloc(8); rec.writeUInt32BE(0x80000004, 0); rec.writeUInt32BE(1, 4)
      conn.call(1, 100003, 19, rec).then(() => console.log('settled: reply'), (e) => console.log('settled: ' + e.name))
    })
    process.on('exit', (code) => console.log('exit ' + code))`
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 })
  assert.is(r.stdout.trim(), 'settled: RpcTimeoutError\nexit 0', `stdout: ${r.stdout}\nstderr: ${r.stderr}`)
})

test('connecting to a closed port fails fast', async () => {
  const p = await peer(() => undefined)
  const port = p.port
  await p.close()
  const t0 = Date.now()
  const err = await RpcConnection.open(opts(port)).catch((e: unknown) => e)
  assert.is((err as { code: string }).code, 'ERR_RPC_CONNECT')
  assert.ok(Date.now() - t0 < 1000)
})

test('reserved source port: bound in 512..1023 when asked (root)', async () => {
  if (process.getuid?.() !== 0) throw new Error('this test must run as root')
  let remotePort = 0
  const p = await peer((xid, _b, sock) => {
    remotePort = sock.remotePort ?? 0
    sock.write(record(xid, Buffer.alloc(0)))
  })
  const conn = await open(opts(p.port, { reservedPort: true }))
  const xid = conn.nextXid()
  await conn.call(xid, 1, 1, record(xid, Buffer.from('x')))
  assert.ok(remotePort >= 512 && remotePort <= 1023, `source port ${remotePort}`)
  await conn.close()
  await p.close()
})

test.run()

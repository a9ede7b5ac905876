// The fault-injection proxy itself, against a plain echo server: if these fail, the stalled- and
// broken-server tests are suspect. Each mode does what the tests built on it assume.
import * as assert from 'uvu/assert'
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { delay } from '../fixtures/proc.js'
import { startProxy, type TcpProxy } from '../fixtures/tcp-proxy.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { record } from '../fixtures/rpc-peer.js'

interface Ctx { proxy: TcpProxy; echo: Server }

const s = fixtureSuite<Ctx>('tcp proxy fixture', async (defer) => {
  const echo = createServer((sock) => {
    sock.on('error', () => undefined)
    sock.pipe(sock)
  })
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()))
  defer(() => new Promise<void>((resolve) => echo.close(() => resolve())))
  const proxy = await startProxy({ port: (echo.address() as AddressInfo).port })
  defer(() => proxy.close())
  return { proxy, echo }
})

/** A client connection that collects what it receives. */
async function client(port: number): Promise<{ sock: Socket; received: () => Buffer; waitBytes: (n: number) => Promise<Buffer>; closed: Promise<void> }> {
  const sock = createConnection({ port, host: '127.0.0.1' })
  sock.on('error', () => undefined)
  const chunks: Buffer[] = []
  const waiters = new Set<() => void>()
  sock.on('data', (d: Buffer) => {
    chunks.push(d)
    for (const w of [...waiters]) w()
  })
  const closed = new Promise<void>((resolve) => sock.once('close', () => { for (const w of [...waiters]) w(); resolve() }))
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()))
  const received = (): Buffer => Buffer.concat(chunks)
  return {
    sock,
    received,
    closed,
    waitBytes: (n) => new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => finish(() => reject(new Error(`received ${received().length} of ${n} bytes in 10 s`))), 10_000)
      const check = (): void => {
        if (received().length >= n) finish(() => resolve(received()))
        else if (sock.destroyed) finish(() => reject(new Error(`closed after ${received().length} of ${n} bytes`)))
      }
      const finish = (f: () => void): void => { clearTimeout(timer); waiters.delete(check); f() }
      waiters.add(check)
      check()
    }),
  }
}

s.test('forward: bytes pass both ways unchanged', async ({ proxy }) => {
  proxy.setMode({ kind: 'forward' })
  const c = await client(proxy.port)
  const data = randomBytes(3 * 1024 * 1024)
  c.sock.write(data)
  assert.ok((await c.waitBytes(data.length)).equals(data))
  c.sock.destroy()
})

s.test('stall: nothing passes while stalled, everything once forwarding resumes; the connection stays open', async ({ proxy }) => {
  proxy.setMode({ kind: 'forward' })
  const c = await client(proxy.port)
  proxy.setMode({ kind: 'stall' })
  c.sock.write('held')
  await delay(300)
  assert.is(c.received().length, 0)
  assert.not.ok(c.sock.destroyed)
  proxy.setMode({ kind: 'forward' })
  assert.is((await c.waitBytes(4)).toString(), 'held')
  c.sock.destroy()
})

s.test('blackhole: the open connection goes silent for good, a new one is forwarded', async ({ proxy }) => {
  proxy.setMode({ kind: 'forward' })
  const lost = await client(proxy.port)
  proxy.setMode({ kind: 'blackhole' })
  const fresh = await client(proxy.port)
  lost.sock.write('lost')
  fresh.sock.write('fresh')
  assert.is((await fresh.waitBytes(5)).toString(), 'fresh')
  proxy.setMode({ kind: 'forward' })
  await delay(300)
  assert.is(lost.received().length, 0)
  assert.not.ok(lost.sock.destroyed)
  lost.sock.destroy()
  fresh.sock.destroy()
})

s.test('close: open connections are closed, new ones right after accept', async ({ proxy }) => {
  proxy.setMode({ kind: 'forward' })
  const open = await client(proxy.port)
  proxy.setMode({ kind: 'close' })
  await open.closed
  const accepted = proxy.stats().accepted
  const c = await client(proxy.port)
  await c.closed
  assert.is(proxy.stats().accepted, accepted + 1)
  assert.is(c.received().length, 0)
  proxy.setMode({ kind: 'forward' })
})

s.test('garbage huge-mark: a call is answered with a record mark of 2^31-1 bytes', async ({ proxy }) => {
  proxy.setMode({ kind: 'garbage', style: 'huge-mark' })
  const c = await client(proxy.port)
  c.sock.write(record(7, Buffer.alloc(12)))
  const got = await c.waitBytes(4)
  assert.is(got.readUInt32BE(0), 0xffffffff)
  c.sock.destroy()
  proxy.setMode({ kind: 'forward' })
})

s.test('garbage records: each call is answered with one well-framed record carrying its xid', async ({ proxy }) => {
  proxy.setMode({ kind: 'garbage', style: 'records' })
  const c = await client(proxy.port)
  // Two calls in one write, the second split across two writes.
  const second = record(0xdeadbeef, Buffer.alloc(100))
  c.sock.write(Buffer.concat([record(42, Buffer.alloc(8)), second.subarray(0, 10)]))
  c.sock.write(second.subarray(10))
  const replies: number[] = []
  let off = 0
  while (replies.length < 2) {
    const mark = (await c.waitBytes(off + 8)).readUInt32BE(off)
    assert.ok((mark & 0x80000000) !== 0, 'last-fragment bit')
    const len = mark & 0x7fffffff
    assert.is(len % 4, 0)
    replies.push((await c.waitBytes(off + 4 + len)).readUInt32BE(off + 4))
    off += 4 + len
  }
  assert.equal(replies, [42, 0xdeadbeef])
  c.sock.destroy()
  proxy.setMode({ kind: 'forward' })
})

s.test('throttle: the average rate stays under the limit, data intact', async ({ proxy }) => {
  const rate = 4 * 1024 * 1024
  proxy.setMode({ kind: 'throttle', bytesPerSecond: rate })
  const c = await client(proxy.port)
  const data = randomBytes(2 * 1024 * 1024)
  const t0 = Date.now()
  c.sock.write(data)
  const got = await c.waitBytes(data.length)
  const seconds = (Date.now() - t0) / 1000
  assert.ok(got.equals(data))
  // Up and back are limited each, and overlap: at least the time for 2 MiB, less the credit each way.
  const floor = (data.length - 2 * 256 * 1024) / rate
  assert.ok(seconds >= floor, `2 MiB echoed in ${seconds} s through a ${rate} B/s proxy (floor ${floor} s)`)
  c.sock.destroy()
  proxy.setMode({ kind: 'forward' })
})

s.run()

// The benchmark's delay proxy (bench/proxy/delay-proxy.ts) against a plain echo server: bytes pass
// unchanged and in order both ways, and a round trip takes at least twice the delay. A lower
// bound only: how much longer it takes depends on the machine and is not tested.
import * as assert from 'uvu/assert'
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { startDelayProxy, type DelayProxy } from '../../bench/proxy/delay-proxy.js'
import { fixtureSuite } from '../fixtures/suite.js'

const DELAY_MS = 20

interface Ctx { proxy: DelayProxy; echo: Server }

const s = fixtureSuite<Ctx>('bench delay proxy', async (defer) => {
  const echo = createServer((sock) => {
    sock.on('error', () => undefined)
    sock.pipe(sock)
  })
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()))
  defer(() => new Promise<void>((resolve) => echo.close(() => resolve())))
  const proxy = await startDelayProxy((echo.address() as AddressInfo).port, DELAY_MS)
  defer(() => proxy.close())
  return { proxy, echo }
})

/** Writes DATA on a fresh connection; resolves with what came back once as many bytes arrived. */
async function echoThrough(port: number, data: Buffer): Promise<{ back: Buffer; sock: Socket }> {
  const sock = createConnection({ port, host: '127.0.0.1' })
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject) })
  const chunks: Buffer[] = []
  let got = 0
  const back = new Promise<Buffer>((resolve, reject) => {
    sock.on('data', (d: Buffer) => {
      chunks.push(d)
      got += d.length
      if (got >= data.length) resolve(Buffer.concat(chunks))
    })
    sock.once('close', () => reject(new Error(`closed after ${got} of ${data.length} bytes`)))
  })
  sock.write(data)
  return { back: await back, sock }
}

s.test('bytes pass both ways unchanged and in order (8 MiB, many chunks)', async ({ proxy }) => {
  const data = randomBytes(8 * 1024 * 1024)
  const { back, sock } = await echoThrough(proxy.port, data)
  assert.ok(back.equals(data))
  sock.destroy()
})

s.test('a round trip waits at least the delay in each direction', async ({ proxy }) => {
  const t0 = performance.now()
  const { back, sock } = await echoThrough(proxy.port, Buffer.from('ping'))
  const ms = performance.now() - t0
  assert.is(back.toString(), 'ping')
  assert.ok(ms >= 2 * DELAY_MS, `round trip took ${ms.toFixed(1)} ms, less than 2 x ${DELAY_MS} ms`)
  sock.destroy()
})

s.run()

// Nfs3Client over a real RpcConnection to a scripted loopback peer: JUKEBOX is retried after a
// delay instead of failing; other errors map to their errno; RPC-level refusals become typed errors.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as net from 'node:net'
import { RpcConnection, RecordReader, RpcDeniedError } from '../../../src/rpc/index.js'
import { Nfs3Client, Nfs3Error } from '../../../src/proto/nfs3/index.js'
import { XdrCodec } from '../../../src/xdr/index.js'
import { FATTR_FILE } from '../../vectors/nfs3.js'
import { wire } from '../../vectors/wire.js'

const ACCEPTED_OK = '00000001 00000000 00000000 00000000 00000000' // REPLY, MSG_ACCEPTED, AUTH_NONE {0}, SUCCESS
const DENIED_AUTH = '00000001 00000001 00000001 00000005' // REPLY, MSG_DENIED, AUTH_ERROR, AUTH_TOOWEAK
const hex = (n: number): string => n.toString(16).padStart(8, '0')

async function serve(answer: (n: number) => string): Promise<{ port: number; close(): Promise<void> }> {
  let n = 0
  const socks = new Set<net.Socket>()
  const server = net.createServer((sock) => {
    socks.add(sock)
    const reader = new RecordReader(1 << 20, (msg) => {
      const body = wire(hex(msg.readUInt32BE(0)), answer(n++))
      const mark = Buffer.alloc(4)
      mark.writeUInt32BE((0x80000000 | body.length) >>> 0)
      sock.write(Buffer.concat([mark, body]))
    })
    sock.on('data', (c: Buffer) => reader.push(c))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); server.close(() => r()) }),
  }
}

const cred = { auth: { stamp: 1, machine: 'm', uid: 1234, gid: 1234, gids: [1234] }, map: null }

async function client(port: number): Promise<Nfs3Client> {
  const conn = await RpcConnection.open({ host: '127.0.0.1', port, reservedPort: false, timeoutMs: 2000, retrans: 1, maxRecord: 1 << 20, reconnect: false })
  return new Nfs3Client(conn, XdrCodec.load())
}

test('NFS3ERR_JUKEBOX is retried with a delay, then the result returned', async () => {
  const s = await serve((n) => (n < 2 ? `${ACCEPTED_OK} 00002718` : `${ACCEPTED_OK} 00000000 ${FATTR_FILE}`))
  const c = await client(s.port)
  try {
    const t0 = Date.now()
    const r = await c.getattr(cred, Buffer.from('fh'))
    assert.is(r.status, 0)
    assert.ok(r.attr)
    assert.ok(Date.now() - t0 >= 250, 'retried without waiting')
  } finally {
    await c.connection.close()
    await s.close()
  }
})

test('other nfsstat3 values reject with Nfs3Error carrying the errno (STALE -> ESTALE)', async () => {
  const s = await serve(() => `${ACCEPTED_OK} 00000046`)
  const c = await client(s.port)
  try {
    const err = await c.getattr(cred, Buffer.from('fh')).catch((e: unknown) => e)
    assert.instance(err, Nfs3Error)
    assert.is((err as Nfs3Error).errno, 116)
    assert.is((err as Nfs3Error).status, 70)
  } finally {
    await c.connection.close()
    await s.close()
  }
})

test('MSG_DENIED AUTH_ERROR rejects with RpcDeniedError (EACCES)', async () => {
  const s = await serve(() => DENIED_AUTH)
  const c = await client(s.port)
  try {
    const err = await c.getattr(cred, Buffer.from('fh')).catch((e: unknown) => e)
    assert.instance(err, RpcDeniedError)
    assert.is((err as RpcDeniedError).errno, 13)
    assert.match((err as Error).message, /AUTH_TOOWEAK/)
  } finally {
    await c.connection.close()
    await s.close()
  }
})

test.run()

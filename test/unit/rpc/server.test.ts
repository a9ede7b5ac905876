// RpcServer (the callback side): calls arrive framed, are answered on their own connection, and a
// peer that sends an oversized record loses only its own connection.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as net from 'node:net'
import { RpcConnection, RpcServer, invoke } from '../../../src/rpc/index.js'
import { LockCodec, XdrCodec, NLM_PROG, NLM_VERS } from '../../../src/xdr/index.js'

const xdr = XdrCodec.load()
const locks = new LockCodec(xdr)

test('a NULL call to NLM v4 is decoded and answered on the same connection', async () => {
  const seen: number[] = []
  const srv = await RpcServer.listen({
    host: '127.0.0.1', port: 0, maxRecord: 4096, log: () => undefined,
    onCall: (msg, reply) => {
      const call = locks.decodeCall(msg)
      seen.push(call.prog, call.vers, call.proc)
      reply(locks.reply(call.xid, 0))
    },
  })
  const conn = await RpcConnection.open({ host: '127.0.0.1', port: srv.port, reservedPort: false, timeoutMs: 1000, retrans: 1, maxRecord: 4096, reconnect: false })
  try {
    await invoke(conn, NLM_PROG, 0, (xid) => xdr.rpcNull(xid, NLM_PROG, NLM_VERS), (m) => xdr.decodeVoid(m))
    assert.equal(seen, [NLM_PROG, NLM_VERS, 0])
  } finally {
    await conn.close()
    await srv.close()
  }
})

test('an oversized record closes that connection only; the server keeps serving', async () => {
  const lines: string[] = []
  const srv = await RpcServer.listen({ host: '127.0.0.1', port: 0, maxRecord: 64, log: (l) => lines.push(l), onCall: (msg, reply) => reply(locks.reply(locks.decodeCall(msg).xid, 0)) })
  try {
    const bad = net.connect(srv.port, '127.0.0.1')
    await new Promise<void>((r) => bad.once('connect', () => r()))
    const closed = new Promise<void>((r) => bad.once('close', () => r()))
    bad.on('error', () => undefined)
    const head = Buffer.alloc(4)
    head.writeUInt32BE((0x80000000 | 100000) >>> 0)
    bad.write(head)
    await closed
    assert.ok(lines.some((l) => l.includes('closed')), lines.join('\n'))
    const conn = await RpcConnection.open({ host: '127.0.0.1', port: srv.port, reservedPort: false, timeoutMs: 1000, retrans: 1, maxRecord: 4096, reconnect: false })
    await invoke(conn, NLM_PROG, 0, (xid) => xdr.rpcNull(xid, NLM_PROG, NLM_VERS), (m) => xdr.decodeVoid(m))
    await conn.close()
  } finally {
    await srv.close()
  }
})

test.run()

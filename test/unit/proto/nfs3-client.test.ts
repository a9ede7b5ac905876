// Nfs3Client over a real RpcConnection to a scripted loopback peer: JUKEBOX is retried after a
// delay instead of failing; other errors map to their errno; RPC-level refusals become typed errors.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RpcConnection, RpcDeniedError } from '../../../src/rpc/index.js'
import { Nfs3Client, Nfs3Error } from '../../../src/proto/nfs3/index.js'
import { XdrCodec } from '../../../src/xdr/index.js'
import { FATTR_FILE } from '../../vectors/nfs3.js'
import { ACCEPTED_OK, scriptedNfsPeer } from '../../fixtures/rpc-peer.js'

const DENIED_AUTH = '00000001 00000001 00000001 00000005' // REPLY, MSG_DENIED, AUTH_ERROR, AUTH_TOOWEAK

const cred = { auth: { stamp: 1, machine: 'm', uid: 1234, gid: 1234, gids: [1234] }, map: null }

async function client(port: number): Promise<Nfs3Client> {
  const conn = await RpcConnection.open({ host: '127.0.0.1', port, reservedPort: false, timeoutMs: 2000, retrans: 1, maxRecord: 1 << 20, reconnect: false })
  return new Nfs3Client(conn, XdrCodec.load())
}

test('NFS3ERR_JUKEBOX is retried with a delay, then the result returned', async () => {
  const s = await scriptedNfsPeer((n) => (n < 2 ? `${ACCEPTED_OK} 00002718` : `${ACCEPTED_OK} 00000000 ${FATTR_FILE}`))
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
  const s = await scriptedNfsPeer(() => `${ACCEPTED_OK} 00000046`)
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
  const s = await scriptedNfsPeer(() => DENIED_AUTH)
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

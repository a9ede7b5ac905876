// The process's NLM callback service against calls sent as a server sends them (over TCP): a
// grant for a tag of this process reaches its handler, one for another process's tag is handed to
// that process's listener, and listings of processes that are gone are pruned. No portmapper is
// involved here (integration/locks.test.ts has the registration against a real one).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GrantService, type Grant } from '../../../src/locks/grant-service.js'
import { LockCodec, XdrCodec, NLM4_DENIED, NLM4_GRANTED } from '../../../src/xdr/index.js'
import { RpcServer } from '../../../src/rpc/index.js'

const xdr = XdrCodec.load()
const codec = new LockCodec(xdr)
const cred = { stamp: 1, machine: 'srv', uid: 0, gid: 0, gids: [] }

/** A GRANTED (proc 5) or GRANTED_MSG (10) call for owner handle OH, as a record. */
function grantedCall(xid: number, proc: number, oh: Buffer): Buffer {
  const rec = codec.nlmTest(xid, cred, Buffer.from('srv-cookie'), true, { callerName: 'server', fh: Buffer.from('fh-1'), oh, svid: 7, offset: 0n, len: 0n })
  rec.writeUInt32BE(proc, 4 + 20)
  return rec
}

/** Sends RECORD to PORT and resolves with the one reply message (no record mark). */
function call(port: number, record: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1')
    let got = Buffer.alloc(0)
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d])
      if (got.length >= 4 && got.length >= 4 + (got.readUInt32BE(0) & 0x7fffffff)) {
        sock.destroy()
        resolve(got.subarray(4))
      }
    })
    sock.on('error', reject)
    sock.write(record)
  })
}

/** The nlm4_res stat at the end of an accepted reply carrying one. */
const statOf = (reply: Buffer): number => reply.readUInt32BE(reply.length - 4)

test('grants go to the handler of their tag; unknown tags are refused (GRANTED) or just acknowledged (MSG); peers get theirs forwarded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mapnfs-grants-'))
  // A listing of a process that no longer exists, and one without a live listener.
  writeFileSync(join(dir, 'dddddddddddddddd'), '1 2147483646\n')
  const svc = await GrantService.shared(xdr, dir, () => undefined)
  assert.not.ok(existsSync(join(dir, 'dddddddddddddddd')), 'a dead process\'s listing is pruned')
  const mine = Buffer.from('0123456789abcdef', 'hex')
  const seen: [Grant, boolean][] = []
  svc.add(mine, async (g, asMsg) => { seen.push([g, asMsg]); return NLM4_GRANTED })
  try {
    const ours = Buffer.concat([mine, Buffer.from('p-owner')])
    assert.is(statOf(await call(svc.port, grantedCall(1, 5, ours))), NLM4_GRANTED)
    const msgReply = await call(svc.port, grantedCall(2, 10, ours))
    assert.is(msgReply.length, 24, 'a _MSG is answered with a void accepted reply')
    assert.equal(seen.map(([g, m]) => [g.lock.oh.toString('hex'), g.lock.svid, m]), [[ours.toString('hex'), 7, false], [ours.toString('hex'), 7, true]])
    assert.is(statOf(await call(svc.port, grantedCall(3, 5, Buffer.from('ffffffffffffffff-x')))), NLM4_DENIED)

    // Another process's listing: its listener gets the very call and its answer comes back.
    const peerTag = 'abababababababab'
    const got: number[] = []
    const peer = await RpcServer.listen({
      host: '127.0.0.1', port: 0, maxRecord: 8192, log: () => undefined,
      onCall: (msg, reply) => {
        const c = codec.decodeCall(msg)
        got.push(c.xid)
        reply(codec.reply(c.xid, 0, { cookie: c.granted!.cookie, stat: NLM4_GRANTED }))
      },
    })
    writeFileSync(join(dir, peerTag), `${peer.port} ${process.pid}\n`)
    try {
      assert.is(statOf(await call(svc.port, grantedCall(4, 5, Buffer.concat([Buffer.from(peerTag, 'hex'), Buffer.from('q')])))), NLM4_GRANTED)
      assert.equal(got, [4])
    } finally {
      await peer.close()
    }
  } finally {
    await svc.remove(mine)
  }
  assert.not.ok(existsSync(join(dir, mine.toString('hex'))), 'its own listing goes with the last mount')
})

test.run()

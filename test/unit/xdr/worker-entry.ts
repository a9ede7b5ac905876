// Runs inside a worker_thread for worker.test.ts: loads its own XdrCodec, encodes a call and decodes a
// reply, and posts the results back.

import { parentPort, workerData } from 'node:worker_threads'
import { XdrCodec } from '../../../src/xdr/index.js'

const codec = XdrCodec.load()
const { reply } = workerData as { reply: Uint8Array }
const call = codec.getattr(0x203, { stamp: 0, machine: 'h', uid: 0, gid: 0, gids: [] }, Buffer.from('0102030405060708090a0b0c', 'hex'))
const decoded = codec.decodeGetattr(Buffer.from(reply), { serverUid: 1000, serverGid: 100, localUid: 7, localGid: 8 })
parentPort?.postMessage({ call, decoded })

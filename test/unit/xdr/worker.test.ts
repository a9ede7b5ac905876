// The codec runs unchanged inside a worker_thread: its own instance, no main-thread globals, and the
// wasm found relative to the module whatever thread loads it.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Worker } from 'node:worker_threads'
import { once } from 'node:events'
import { GETATTR_CALL, GETATTR_REPLY } from '../../vectors/nfs3.js'

test('encode and decode inside a worker_thread', async () => {
  // The worker loads the TypeScript entry through tsx's API (a compiled build would point at dist/).
  const entry = new URL('./worker-entry.ts', import.meta.url).href
  const boot = `import('tsx/esm/api').then((m) => m.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`
  const worker = new Worker(boot, { eval: true, workerData: { reply: new Uint8Array(GETATTR_REPLY.wire) } })
  const [msg] = (await once(worker, 'message')) as [{ call: Uint8Array; decoded: { res: { attr: { uid: number; gid: number } } } }]
  await once(worker, 'exit')
  assert.is(Buffer.from(msg.call).toString('hex'), GETATTR_CALL.wire.toString('hex'))
  assert.is(msg.decoded.res.attr.uid, 7)
  assert.is(msg.decoded.res.attr.gid, 8)
})

test.run()

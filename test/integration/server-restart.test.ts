// The server restarts under a live mount: the connection drops, calls reconnect, and UNSTABLE
// data the restarted server may have lost is written again because the COMMIT verifier changed
// (RFC 1813 §3.3.21). The application only sees its fsync() succeed.
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint, makeTempDir } from '../fixtures/paths.js'
import { mountCli, requireCli, runAs } from '../fixtures/mount.js'
import { fixtureSuite } from '../fixtures/suite.js'

const APP = 2000
const SIZE = 4 * 1024 * 1024

const s = fixtureSuite<{ exp: string; g: { current: Ganesha }; upSince: number }>('server restart under a mount', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  const g = { current: await startGanesha({ exports: [{ path: exp }] }) }
  defer(() => g.current.stop())
  return { exp, g, upSince: Date.now() }
})

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

s.test('write, restart the server, fsync: data intact, connection reopened, lost chunks rewritten', async ({ exp, g, upSince }) => {
  const first = g.current
  const ports = { nfsPort: first.nfsPort, mountPort: first.mountPort }
  const mnt = makeMountpoint()
  const m = await mountCli(nfsSource(exp), mnt, ['-o', `uid=1234,gid=1234,${portOptions(first)},timeo=10,retrans=10,stats`])
  let stderr = ''
  try {
    const sync = makeTempDir('restart-sync', 0o777)
    const go = join(sync, 'go')
    const ready = join(sync, 'ready')
    execFileSync('mkfifo', [go])
    chmodSync(go, 0o666)
    const file = join(mnt, 'data.bin')
    // The application writes (UNSTABLE, not yet committed), says so, waits for the restart, then fsyncs.
    const script = `const fs = require('fs');
      const buf = Buffer.alloc(${SIZE}); for (let i = 0; i < buf.length; i++) buf[i] = (i * 7 + (i >> 12)) & 0xff;
      const fd = fs.openSync(${JSON.stringify(file)}, 'w'); fs.writeSync(fd, buf);
      fs.writeFileSync(${JSON.stringify(ready)}, '');
      fs.readFileSync(${JSON.stringify(go)});
      fs.fsyncSync(fd); fs.closeSync(fd);`
    const app = runAs(APP, APP, process.execPath, ['-e', script], { timeoutMs: 90_000 })
    await until(() => existsSync(ready), 30_000, 'the application to finish writing')
    // ganesha derives its write verifier from its start time in whole seconds: a restart within
    // the same second would keep the verifier, and rightly need no rewrite.
    await until(() => Math.floor(Date.now() / 1000) > Math.floor(upSince / 1000), 2000, 'the next second')
    await first.stop()
    g.current = await startGanesha({ exports: [{ path: exp }], ports })
    writeFileSync(go, 'go')
    const r = await app
    assert.is(r.code, 0, r.stderr)
    const data = readFileSync(join(exp, 'data.bin'))
    assert.is(data.length, SIZE)
    let bad = -1
    for (let i = 0; i < SIZE; i++) if (data[i] !== ((i * 7 + (i >> 12)) & 0xff)) { bad = i; break }
    assert.is(bad, -1, `first wrong byte at ${bad}`)
  } finally {
    stderr = (await m.unmount()).stderr
  }
  const line = stderr.split('\n').find((l) => l.startsWith('mapnfs: stats '))
  assert.ok(line, `no stats line in: ${stderr}`)
  const stats = JSON.parse(line!.slice('mapnfs: stats '.length)) as { reconnects: number; rewrittenChunks: number }
  assert.ok(stats.reconnects >= 1, `reconnects ${stats.reconnects}`)
  assert.ok(stats.rewrittenChunks >= 1, `rewrittenChunks ${stats.rewrittenChunks}: the verifier change went unnoticed`)
})

s.run()

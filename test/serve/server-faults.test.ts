// What an operator of mapnfs serve sees when the network or the server misbehaves: a volume whose
// NFS connections go through a fault-injecting proxy logs reconnects and "not responding" / "OK"
// as records of that volume, and the metrics count the reconnects and retransmits, while the
// application's data comes through.
import * as assert from 'uvu/assert'
import { makeExportDir, freePorts, startGanesha } from '../fixtures/ganesha.js'
import { startProxy } from '../fixtures/tcp-proxy.js'
import { shAs } from '../fixtures/mount.js'
import { delay } from '../fixtures/proc.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { pluginCall, scrapeMetrics, startServe } from '../fixtures/serve.js'

const s = fixtureSuite('mapnfs serve: reconnects and an unresponsive server, in logs and metrics', async (defer) => {
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const proxy = await startProxy({ port: g.nfsPort })
  defer(() => proxy.close())
  const [port] = await freePorts(1)
  const d = await startServe({ args: ['--metrics', `127.0.0.1:${port}`] })
  defer(async () => {
    const r = await d.stop()
    if (r.code !== 0) throw new Error(`mapnfs serve exited ${r.code}: ${r.stderr}`)
  })
  return { exp, g, proxy, d, port: port! }
})

async function metric(port: number, key: string): Promise<number> {
  return (await scrapeMetrics(port)).series.get(key) ?? 0
}

s.test('dropped connections: a reconnect record; a silent server: not responding, then OK; data intact', async ({ exp, g, proxy, d, port }) => {
  const call = (path: string, body: unknown) => pluginCall(d.dirs.socket, path, body)
  const source = `nfs://127.0.0.1:${proxy.port}${exp}?mountport=${g.mountPort}`
  assert.is((await call('/VolumeDriver.Create', { Name: 'flaky', Opts: { source, uid: '1234', gid: '1234', timeo: '5', retrans: '1' } })).body.Err, '')
  const mp = (await call('/VolumeDriver.Mount', { Name: 'flaky', ID: 'f' })).body.Mountpoint as string
  await shAs(2000, 2000, `printf one > ${mp}/a.txt`)

  proxy.setMode({ kind: 'close' })
  await delay(200)
  proxy.setMode({ kind: 'forward' })
  assert.is(await shAs(2000, 2000, `cat ${mp}/a.txt`), 'one')
  const reconnect = JSON.parse(await d.waitFor(/"event":"reconnect"/, 10_000)) as Record<string, unknown>
  assert.is(reconnect.volume, 'flaky')
  assert.is(reconnect.level, 'info')
  assert.ok(await metric(port, 'mapnfs_rpc_reconnects_total{volume="flaky"}') >= 1)

  // Silent for longer than timeo x (retrans + 1) = 1 s: a hard mount waits, and says so.
  proxy.setMode({ kind: 'stall' })
  const reader = shAs(2000, 2000, `cat ${mp}/a.txt; printf two > ${mp}/b.txt; cat ${mp}/b.txt`)
  const down = JSON.parse(await d.waitFor(/"event":"server-not-responding"/, 15_000)) as Record<string, unknown>
  assert.is(down.volume, 'flaky')
  assert.is(down.level, 'warn')
  assert.match(String(down.msg), /^server 127\.0\.0\.1 not responding, still trying$/)
  proxy.setMode({ kind: 'forward' })
  assert.is(await reader, 'onetwo')
  const up = JSON.parse(await d.waitFor(/"event":"server-ok"/, 15_000)) as Record<string, unknown>
  assert.is(up.volume, 'flaky')
  assert.ok(await metric(port, 'mapnfs_rpc_retransmits_total{volume="flaky"}') + await metric(port, 'mapnfs_rpc_major_timeouts_total{volume="flaky"}') >= 1)

  assert.is((await call('/VolumeDriver.Unmount', { Name: 'flaky', ID: 'f' })).body.Err, '')
  assert.is((await call('/VolumeDriver.Remove', { Name: 'flaky' })).body.Err, '')
})

s.run()

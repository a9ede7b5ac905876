// The Prometheus endpoint of mapnfs serve under a real fio load on a real ganesha: scraped while fio
// runs, the per-volume counters move; once the load is over, a scrape and the volume's stats line
// (SIGUSR2) say the same numbers, since both read one snapshot. The daemon logs as text here, so
// the human-readable format is exercised too.
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { request } from 'node:http'
import { makeExportDir, freePorts, nfsUrl, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { delay, onExit, killSync } from '../fixtures/proc.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { pluginCall, scrapeMetrics, startServe, type ServeDaemon } from '../fixtures/serve.js'
import type { DaemonStats } from '../fixtures/mount.js'

interface Ctx {
  g: Ganesha
  exp: string
  d: ServeDaemon
  port: number
}

const s = fixtureSuite<Ctx>('mapnfs serve: Prometheus metrics under fio', async (defer) => {
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const [port] = await freePorts(1)
  const d = await startServe({ args: ['--metrics', `127.0.0.1:${port}`, '--log-format', 'text'] })
  defer(async () => {
    const r = await d.stop()
    if (r.code !== 0) throw new Error(`mapnfs serve exited ${r.code}: ${r.stderr}`)
  })
  return { g, exp, d, port: port! }
})

type Series = Map<string, number>

const get = (series: Series, key: string): number => series.get(key) ?? 0

s.test('text logs: one readable line per record', async ({ d }) => {
  const line = await d.waitFor(/ INFO serving the Docker volume plugin API on /)
  assert.match(line, /^\d{4}-\d\d-\d\dT\S+Z INFO serving the Docker volume plugin API on \S+ event=serve /)
  assert.not.match(d.stdout(), /^\{/m, 'no JSON lines in text format')
  // A value with a newline (here a volume name a caller made up) stays on its record's line.
  const r = await pluginCall(d.dirs.socket, '/VolumeDriver.Path', { Name: 'evil\n2026-01-01T00:00:00.000Z ERROR forged' })
  assert.match(r.body.Err as string, /^no such volume: /)
  await d.waitFor(/ INFO VolumeDriver.Path refused: /)
  for (const l of d.stdout().split('\n').filter(Boolean)) assert.match(l, /^\d{4}-\d\d-\d\dT\S+Z (DEBUG|INFO|WARN|ERROR) /, l)
  assert.not.match(d.stdout(), /^2026-01-01T00:00:00.000Z ERROR forged/m)
})

s.test('scraped during fio: calls, bytes and latency move; after it, a scrape equals the stats line', async (c) => {
  const { d, port } = c
  const call = (path: string, body: unknown) => pluginCall(d.dirs.socket, path, body)
  assert.is((await call('/VolumeDriver.Create', { Name: 'load', Opts: { source: nfsUrl(c.g, c.exp), uid: '1234', gid: '1234' } })).body.Err, '')
  const mp = (await call('/VolumeDriver.Mount', { Name: 'load', ID: 'fio' })).body.Mountpoint as string
  assert.match(mp, /\/load$/)

  const idle = await scrapeMetrics(port)
  assert.is(idle.status, 200)
  assert.match(idle.type, /^text\/plain/)
  assert.is(get(idle.series, 'mapnfs_volume_mounted{volume="load"}'), 1)
  assert.ok(get(idle.series, 'process_resident_memory_bytes') > 10e6, `process RSS is exported:\n${idle.text.slice(0, 3000)}`)

  const fio = spawn('fio', ['--name=load', `--directory=${mp}`, '--rw=write', '--bs=128k', '--size=96M', '--end_fsync=1', '--ioengine=psync'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const fioPid = fio.pid!
  const deregister = onExit(() => (killSync(fioPid) ? `fio (pid ${fioPid})` : undefined))
  let fioErr = ''
  fio.stderr.setEncoding('utf8').on('data', (t: string) => { fioErr += t })
  const fioDone = new Promise<number | null>((resolve) => fio.once('exit', (code) => resolve(code)))
  let during: Series | undefined
  let running = true
  void fioDone.then(() => { running = false })
  while (running) {
    const m = await scrapeMetrics(port)
    if (get(m.series, 'mapnfs_written_bytes_total{volume="load"}') > 0 && running) during = m.series
    await delay(100)
  }
  assert.is(await fioDone, 0, fioErr)
  deregister()
  assert.ok(during !== undefined, 'no scrape saw the write load in progress')
  assert.ok(get(during, 'mapnfs_nfs_calls_total{volume="load",proc="WRITE"}') > 0)
  assert.ok(get(during, 'mapnfs_nfs_call_duration_seconds_count{volume="load",proc="WRITE"}') > 0)
  assert.ok(get(during, 'mapnfs_written_bytes_total{volume="load"}') <= 96 * 1024 * 1024, String(get(during, 'mapnfs_written_bytes_total{volume="load"}')))
  // And read it back (a second fio: one fio with both jobs would lay the read job's file out first).
  await new Promise<void>((resolve, reject) => {
    const r = spawn('fio', ['--name=back', `--directory=${mp}`, '--filename=load.0.0', '--rw=read', '--bs=128k', '--size=96M', '--ioengine=psync'], { stdio: 'ignore' })
    r.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`fio read exited ${code}`))))
  })

  // Idle now: two scrapes around a stats line must all agree.
  const before = await scrapeMetrics(port)
  const from = d.stdout().length
  d.kill('SIGUSR2')
  let statsLine: string | undefined
  for (let i = 0; i < 100 && statsLine === undefined; i++) {
    statsLine = d.stdout().slice(from).split('\n').find((l) => / INFO \[load\] stats event=stats stats=\{/.test(l))
    if (statsLine === undefined) await delay(50)
  }
  assert.ok(statsLine !== undefined, `no stats line after SIGUSR2:\n${d.stdout().slice(from)}`)
  const after = await scrapeMetrics(port)
  const stats = JSON.parse(/stats=(\{.*\})$/.exec(statsLine)![1]!) as DaemonStats

  for (const m of [before.series, after.series]) {
    assert.is(get(m, 'mapnfs_written_bytes_total{volume="load"}'), stats.bytesWritten)
    assert.is(get(m, 'mapnfs_read_bytes_total{volume="load"}'), stats.bytesRead)
    assert.is(get(m, 'mapnfs_rpc_retransmits_total{volume="load"}'), stats.retransmits)
    assert.is(get(m, 'mapnfs_rpc_reconnects_total{volume="load"}'), stats.reconnects)
    assert.is(get(m, 'mapnfs_rewritten_chunks_total{volume="load"}'), stats.rewrittenChunks)
    assert.is(get(m, 'mapnfs_uncommitted_bytes{volume="load"}'), stats.uncommittedBytes)
    assert.is(get(m, 'mapnfs_nfs_calls_in_flight{volume="load"}'), stats.inFlight)
    for (const [proc, name] of [['7', 'WRITE'], ['6', 'READ'], ['21', 'COMMIT'], ['1', 'GETATTR']] as const) {
      assert.is(get(m, `mapnfs_nfs_calls_total{volume="load",proc="${name}"}`), stats.byProc[proc] ?? 0, name)
    }
  }
  assert.is(stats.bytesWritten, 96 * 1024 * 1024)
  assert.ok(stats.bytesRead >= 96 * 1024 * 1024 * 0.5, `bytesRead ${stats.bytesRead}`)
  assert.ok(stats.byProc['21']! >= 1, 'end_fsync committed')
  // The histogram is whole: its +Inf bucket counts every finished call.
  const write = 'volume="load",proc="WRITE"'
  assert.is(get(after.series, `mapnfs_nfs_call_duration_seconds_bucket{${write},le="+Inf"}`), get(after.series, `mapnfs_nfs_call_duration_seconds_count{${write}}`))
  assert.is(get(after.series, `mapnfs_nfs_call_duration_seconds_count{${write}}`), stats.byProc['7'])
  assert.ok(get(after.series, `mapnfs_nfs_call_duration_seconds_sum{${write}}`) > 0)

  // Errors by errno, from both ends: a lookup of a missing name is an NFS error and a failed file operation.
  await new Promise<void>((resolve) => spawn('stat', [`${mp}/missing-file`], { stdio: 'ignore' }).once('exit', () => resolve()))
  const errs = await scrapeMetrics(port)
  assert.ok(get(errs.series, 'mapnfs_nfs_errors_total{volume="load",proc="LOOKUP",errno="ENOENT"}') >= 1, 'NFS errors by errno')
  // The kernel front end meets a missing name at LOOKUP (the FUSE op of a path walk).
  assert.ok(get(errs.series, 'mapnfs_fuse_errors_total{volume="load",op="lookup",errno="ENOENT"}') >= 1, 'file operation errors by errno')

  assert.is((await call('/VolumeDriver.Unmount', { Name: 'load', ID: 'fio' })).body.Err, '')
  const gone = await scrapeMetrics(port)
  assert.is(get(gone.series, 'mapnfs_volume_mounted{volume="load"}'), 0)
  assert.not.ok([...gone.series.keys()].some((k) => k.startsWith('mapnfs_nfs_calls_total{volume="load"')), 'an unmounted volume has no call series')
  assert.is((await call('/VolumeDriver.Remove', { Name: 'load' })).body.Err, '')
})

s.test('anything but GET /metrics is a 404', async ({ port }) => {
  const r = await new Promise<number>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/' }, (res) => { res.resume(); resolve(res.statusCode ?? 0) }).on('error', reject).end()
  })
  assert.is(r, 404)
})

s.run()

// `mapnfs csi` as an operator (or a DaemonSet) starts it: every way it cannot start is one line on
// stderr and a non-zero exit, with no socket left behind; a second plugin on a live socket is
// refused; --help describes it; SIGTERM with nothing published exits 0 and removes the socket.
import * as assert from 'uvu/assert'
import { createServer, type Server } from 'node:net'
import { chmodSync, existsSync, writeFileSync } from 'node:fs'
import { freePorts } from '../fixtures/ganesha.js'
import { runCli } from '../fixtures/mount.js'
import { csiDirs, startCsi, type CsiDirs } from '../fixtures/csi.js'
import { test } from 'uvu'

const csiArgs = (d: CsiDirs, extra: string[] = []): string[] => ['csi', '--endpoint', `unix://${d.socket}`, '--node-id', 'n1', '--state', d.state, '--mount-root', d.kubelet, ...extra]

function oneLine(r: { code: number; stderr: string }, code: number, text: string | RegExp): void {
  assert.is(r.code, code, r.stderr)
  const lines = r.stderr.split('\n').filter(Boolean)
  assert.is(lines.length, 1, r.stderr)
  if (typeof text === 'string') assert.is(lines[0], `mapnfs: ${text}`)
  else assert.match(lines[0]!, text)
}

test('mapnfs csi: bad arguments, non-root, a bad state file: one line, no socket', async () => {
  const d = csiDirs()
  oneLine(await runCli(['csi', '--node-id', 'n1']), 2, "mapnfs csi needs '--endpoint unix:///PATH' (the socket kubelet and the sidecars talk to)")
  oneLine(await runCli(['csi', '--endpoint', `unix://${d.socket}`]), 2, "mapnfs csi needs '--node-id NAME' (the Kubernetes node name) for the node service")
  oneLine(await runCli(csiArgs(d, ['--endpoint', 'tcp://127.0.0.1:10000'])), 2, "Invalid '--endpoint' 'tcp://127.0.0.1:10000' (expected unix:///PATH/csi.sock; TCP endpoints are not served)")
  oneLine(await runCli(csiArgs(d, ['--frob'])), 2, "unknown option '--frob' for mapnfs csi")
  oneLine(await runCli(csiArgs(d, ['--driver-name', 'Bad_Name'])), 2, /^mapnfs: Invalid '--driver-name' 'Bad_Name'/)
  oneLine(await runCli(csiArgs(d, ['--no-node'])), 2, "'--no-node' needs '--controller' (otherwise there is nothing to serve)")
  oneLine(await runCli(csiArgs(d, ['--controller=yes'])), 2, "option '--controller' takes no value")
  oneLine(await runCli(csiArgs(d, ['--metrics', 'nope'])), 2, "Invalid '--metrics' address 'nope' (expected HOST:PORT, e.g. 127.0.0.1:9464)")
  oneLine(await runCli(csiArgs(d, ['extra'])), 2, "unexpected argument 'extra' (mapnfs csi takes only --options; see mapnfs --help)")
  chmodSync(d.kubelet, 0o755)
  oneLine(await runCli(csiArgs(d), { uid: 2000, gid: 2000 }), 1, /^mapnfs: permission denied: the node plugin .* must run as root/)
  writeFileSync(d.state, '{"version": 7}', { mode: 0o600 })
  oneLine(await runCli(csiArgs(d)), 1, `the state file ${d.state} is not a mapnfs csi state (version 7, expected 1)`)
  assert.not.ok(existsSync(d.socket))
})

test('mapnfs csi: a live socket is another plugin\'s; a metrics port in use; --help', async () => {
  const d = csiDirs()
  const first = await startCsi({ dirs: d })
  try {
    oneLine(await runCli(csiArgs(d)), 1, `another process is serving on ${d.socket}`)
    assert.ok(existsSync(d.socket), 'the first plugin keeps its socket')
    assert.is((await first.rpc('Identity', 'Probe')).code, 0)
  } finally {
    assert.is((await first.stop()).code, 0)
  }
  assert.not.ok(existsSync(d.socket), 'SIGTERM removes the socket')

  const [port] = await freePorts(1)
  const busy: Server = createServer()
  await new Promise<void>((r) => busy.listen(port, '127.0.0.1', r))
  try {
    oneLine(await runCli(csiArgs(d, ['--metrics', `127.0.0.1:${port}`])), 1, `cannot serve metrics on 127.0.0.1:${port}: EADDRINUSE`)
    assert.not.ok(existsSync(d.socket))
  } finally {
    busy.close()
  }

  const help = await runCli(['--help'])
  assert.is(help.code, 0)
  assert.match(help.stdout, /mapnfs csi: a Kubernetes CSI plugin/)
  assert.match(help.stdout, /--endpoint unix:\/\/\/PATH/)
  assert.match(help.stdout, /--controller/)
})

test('mapnfs csi --controller --no-node: no node id needed, and no Node service served', async () => {
  const d = csiDirs()
  chmodSync(d.kubelet, 0o755)
  const r = await runCli(['csi', '--controller', '--no-node', '--endpoint', `unix://${d.socket}`, '--frob'])
  oneLine(r, 2, "unknown option '--frob' for mapnfs csi")
  const c = await startCsi({ dirs: d, args: ['--controller', '--no-node'] })
  try {
    assert.is((await c.rpc('Node', 'NodeGetInfo')).code, 12, 'no Node service')
    assert.is((await c.rpc('Controller', 'ControllerGetCapabilities')).code, 0)
  } finally {
    assert.is((await c.stop()).code, 0)
  }
})

test.run()

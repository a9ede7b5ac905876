import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseServeArgs, SERVE_DEFAULTS } from '../../../src/serve/options.js'

test('defaults: the plugin directory dockerd searches, state and mounts under /var/lib/mapnfs, no metrics, JSON logs', () => {
  assert.equal(parseServeArgs([]), { ...SERVE_DEFAULTS, logFormat: 'json', logLevel: 'info' })
  assert.is(SERVE_DEFAULTS.socket, '/run/docker/plugins/mapnfs.sock')
})

test('every option, in both spellings', () => {
  const a = parseServeArgs(['--socket', '/run/x.sock', '--state=/s/state.json', '--mount-root', '/m/', '--metrics', '127.0.0.1:9464', '--log-format', 'text', '--log-level=debug'])
  assert.equal(a, { socket: '/run/x.sock', state: '/s/state.json', mountRoot: '/m', metrics: { host: '127.0.0.1', port: 9464 }, logFormat: 'text', logLevel: 'debug' })
  assert.equal(parseServeArgs(['--metrics', '[::1]:80']).metrics, { host: '::1', port: 80 })
})

test('bad arguments: one clear line each', () => {
  const cases: [string[], string][] = [
    [['--metrics', '9464'], "Invalid '--metrics' address '9464' (expected HOST:PORT, e.g. 127.0.0.1:9464)"],
    [['--metrics', '127.0.0.1:0'], "Invalid '--metrics' address '127.0.0.1:0' (expected HOST:PORT, e.g. 127.0.0.1:9464)"],
    [['--metrics'], "option '--metrics' needs a value"],
    [['--socket', 'rel.sock'], "'--socket' must be an absolute path"],
    [['--log-format', 'xml'], "Invalid '--log-format' (json or text)"],
    [['--log-level', 'trace'], "Invalid '--log-level' (debug, info, warn or error)"],
    [['--frob'], "unknown option '--frob' for mapnfs serve"],
    [['extra'], "unexpected argument 'extra' (mapnfs serve takes only --options; see mapnfs --help)"],
  ]
  for (const [args, text] of cases) assert.throws(() => parseServeArgs(args), (e: unknown) => e instanceof Error && e.message === text, args.join(' '))
})

test.run()

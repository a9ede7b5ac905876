// Child process: a delay proxy (./delay-proxy.ts) in front of 127.0.0.1:TARGET_PORT. Prints
// {"ready":true,"port":P} once it listens; closes and exits on SIGTERM/SIGINT or when the parent's
// pipe closes. In its own process so the bytes it forwards (hundreds of MiB/s) neither wait for the
// orchestrator's event loop nor hide in its CPU time. Started by startDelayProxyChild().
//
//   node --import tsx bench/proxy/serve.ts TARGET_PORT DELAY_MS
import { startDelayProxy } from './delay-proxy.js'

const [target, delay] = process.argv.slice(2).map(Number)
if (!Number.isInteger(target) || !(Number(delay) >= 0)) throw new Error('usage: serve.ts TARGET_PORT DELAY_MS')
const proxy = await startDelayProxy(target!, delay!)
const stop = (): void => {
  void proxy.close().finally(() => process.exit(0))
}
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, stop)
process.stdin.on('end', stop).resume()
process.stdout.write(`${JSON.stringify({ ready: true, port: proxy.port })}\n`)

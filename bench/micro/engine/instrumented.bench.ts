// What instrumentEngine (src/engine/instrumented.ts) costs per NFS call: the counting every mount
// now does (per-procedure calls, latency histogram, errors, bytes), measured on an engine whose
// calls answer at once, so nothing but the wrapper's own work differs. One op = 1000 calls in
// a row (each awaited), as the file system makes them. Compare with a real call's cost: a
// loopback GETATTR took ~90 us inline on this machine (README, Performance).
//
// Run: npx tsx bench/micro/engine/instrumented.bench.ts
import { Bench } from 'tinybench'
import { EngineMetrics, instrumentEngine, PROCEDURES, type Engine } from '../../../src/engine/index.js'

const CALLS = 1000
const ROUNDS = 5
const reply = { status: 0, count: 4096, data: Buffer.alloc(4096) }
const raw = Object.fromEntries(Object.keys(PROCEDURES).map((k) => [k, () => Promise.resolve(reply)])) as unknown as Engine
const counted = instrumentEngine(raw, new EngineMetrics())
const fh = Buffer.alloc(32)
const cred = {} as never

async function loop(e: Engine): Promise<void> {
  for (let i = 0; i < CALLS; i++) await e.read(cred, fh, i * 4096, 4096)
}

const per: Record<string, number[]> = { raw: [], instrumented: [] }
for (let r = 0; r < ROUNDS; r++) {
  const bench = new Bench({ time: 300, warmupTime: 50, throws: true })
  const order: [string, Engine][] = [['raw', raw], ['instrumented', counted]]
  if (r % 2 === 1) order.reverse()
  for (const [name, e] of order) bench.add(name, () => loop(e))
  await bench.run()
  for (const t of bench.tasks) per[t.name]!.push((t.result as { latency: { mean: number } }).latency.mean)
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const rawUs = (median(per.raw!) * 1000) / CALLS
const instUs = (median(per.instrumented!) * 1000) / CALLS
process.stdout.write(`engine calls through instrumentEngine (node ${process.version}; ${ROUNDS} rounds, medians)\n`)
process.stdout.write(`  raw engine call        ${rawUs.toFixed(3)} us/call\n`)
process.stdout.write(`  instrumented call      ${instUs.toFixed(3)} us/call\n`)
process.stdout.write(`  cost of counting       ${(instUs - rawUs).toFixed(3)} us/call (${((instUs - rawUs) / 90 * 100).toFixed(2)}% of a 90 us loopback GETATTR)\n`)

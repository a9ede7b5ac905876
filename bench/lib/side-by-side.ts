// Side-by-side micro benchmark runner on top of tinybench.
//
// The machine is shared and noisy, so absolute ops/s drift from run to run; what is worth reading
// is the ratio between two implementations measured under the same noise. Each case therefore runs
// its contenders in ROUNDS short tinybench runs, alternating which one goes first, and reports the
// median ops/s of each and the median of the per-round ratios (a paired estimate: a noisy round
// slows both sides of the same round).
//
// A task function runs its operation `batch` times per call: single calls of 100 ns operations are
// below what one performance.now() pair can time reliably.
import { Bench } from 'tinybench'

export interface Contender {
  name: string
  fn: () => void
}

export interface Case {
  name: string
  /** Operations per task call. */
  batch: number
  /** Work units per operation (for example bytes or records), shown as `unit`/s next to ops/s. */
  units?: { per: number; unit: string; scale?: number }
  contenders: Contender[]
}

export interface CaseResult {
  name: string
  /** Median ops/s per contender, in contender order. */
  opsPerSec: number[]
  /** Per contender: median over rounds of contender 0's ops/s divided by its ops/s (ours/theirs). */
  ratios: number[]
  /** Per contender: [min, max] of that per-round ratio. */
  spreads: [number, number][]
}

export interface RunOptions {
  rounds?: number
  /** tinybench time budget per task per round, ms. */
  timeMs?: number
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

/** Runs every case; returns per-case medians. Contender 0 is "ours", contender 1.. are compared to it. */
export async function runCases(cases: Case[], opts: RunOptions = {}): Promise<CaseResult[]> {
  const rounds = opts.rounds ?? 5
  const timeMs = opts.timeMs ?? 200
  const results: CaseResult[] = []
  for (const c of cases) {
    const perRound: number[][] = c.contenders.map(() => [])
    for (let r = 0; r < rounds; r++) {
      const bench = new Bench({ time: timeMs, warmupTime: 50, throws: true })
      // Alternate the order so that neither side always runs right after the other's garbage.
      const order = c.contenders.map((_, i) => i)
      if (r % 2 === 1) order.reverse()
      for (const i of order) bench.add(String(i), c.contenders[i]!.fn)
      await bench.run()
      for (const task of bench.tasks) {
        const res = task.result
        if (res.state !== 'completed') throw new Error(`${c.name} / ${c.contenders[Number(task.name)]!.name}: ${res.state}`)
        perRound[Number(task.name)]!.push((c.batch * 1000) / res.period)
      }
    }
    const base = perRound[0]!
    const perRoundRatios = perRound.map((xs) => xs.map((x, r) => base[r]! / x))
    results.push({
      name: c.name,
      opsPerSec: perRound.map(median),
      ratios: perRoundRatios.map(median),
      spreads: perRoundRatios.map((rr) => [Math.min(...rr), Math.max(...rr)] as [number, number]),
    })
  }
  return results
}

/** Formats a rate as 1.23M / 456k / 789 / 9.87 (three significant digits or so). */
export function fmtRate(x: number): string {
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)}G`
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`
  if (x >= 1e4) return `${(x / 1e3).toFixed(1)}k`
  if (x >= 100) return x.toFixed(0)
  return x.toFixed(x >= 10 ? 1 : 2)
}

/** Prints a fixed-width table: header row, separator, rows. */
export function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  const out = [title, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)]
  process.stdout.write(out.join('\n') + '\n\n')
}

/**
 * The usual ours-vs-theirs table: one row per case and "theirs" contender, with ops/s of both, the
 * median ratio ours/theirs (> 1: ours is faster) and the per-round ratio range.
 */
export function printComparison(title: string, cases: Case[], results: CaseResult[]): void {
  const rows: string[][] = []
  results.forEach((res, ci) => {
    const c = cases[ci]!
    for (let i = 1; i < c.contenders.length; i++) {
      const unitCol = (ops: number): string =>
        c.units ? `${fmtRate(ops * c.units.per * (c.units.scale ?? 1))} ${c.units.unit}/s` : ''
      rows.push([
        i === 1 ? c.name : '',
        c.contenders[i]!.name,
        fmtRate(res.opsPerSec[0]!),
        fmtRate(res.opsPerSec[i]!),
        `${res.ratios[i]!.toFixed(2)}x`,
        `${res.spreads[i]![0].toFixed(2)}-${res.spreads[i]![1].toFixed(2)}`,
        ...(c.units ? [unitCol(res.opsPerSec[0]!), unitCol(res.opsPerSec[i]!)] : []),
      ])
    }
  })
  const anyUnits = cases.some((c) => c.units)
  printTable(
    title,
    ['case', 'theirs', 'ours ops/s', 'theirs ops/s', 'ours/theirs', 'round range', ...(anyUnits ? ['ours', 'theirs'] : [])],
    rows,
  )
}

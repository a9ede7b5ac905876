// Issue 7's side-by-side benchmark: in one run, on the same export of one private nfs-ganesha on
// 127.0.0.1, the same loads on
//   export dir      the exported directory itself (local ext4)
//   FUSE ceiling    an in-memory filesystem behind the same FUSE adapter and options as mapnfs
//                   (fuse-native over libfuse 2)
//   FUSE ceiling, kernel protocol
//                   an in-memory filesystem behind KernelMount (src/fuse/kernel), the same way
//   engine inline   mapnfs's engine driven without FUSE, at the concurrency the loads ask for
//   engine pooled   the same with PooledEngine, when src/engine exports one
//   nfs-cp          libnfs's copy tool (sequential loads)
//   mapnfs libfuse2 inline / pooled
//                   the CLI mount with -o frontend=libfuse2 and workers=0 / workers=POOL_WORKERS
//                   (each option only when the CLI has it)
//   mapnfs kernel inline / pooled
//                   the CLI mount with -o frontend=kernel and workers=0 / workers=POOL_WORKERS
// then the sequential loads again through a proxy adding 5 ms each way. Prints the medians, the
// ratios against issue 7's targets (ok / MISS; each mapnfs column against the ceiling of its own
// front end), the kernel front end over libfuse2 per load (ok: >= 1; fuse-native goes only once
// every load is ok), the daemons' peak RSS, CPU per GiB and per 1000 metadata ops, RPCs per stat
// and create, and where the CPU went during each load.
//
// Repetitions alternate the order of the columns (the machine is small and noisy: what ran just
// before must not always be the same). Progress goes to stderr, the report to stdout.
// Everything started here (server, mounts, children, fio) is stopped by pid, also on an error or
// Ctrl-C (the fixtures' exit-time safety net); nothing stays mounted.
//
// Run as root: npm run bench:compare [-- --quick] [-- --json FILE]   (full: about 9 minutes; --quick about 3)
// --json FILE also writes every sample (values, bytes, ops, RPCs per procedure, CPU per process).
// Needs: npm run build, fio, nfs-ganesha, rpcbind, fuse, libnfs-utils (scripts/setup.sh).
import { performance } from 'node:perf_hooks'
import { existsSync, writeFileSync } from 'node:fs'
import { makeExportDir, nfsSource, nfsUrl, portOptions, startGanesha, type Ganesha } from '../test/fixtures/ganesha.js'
import { cliPath, mountCli, requireCli } from '../test/fixtures/mount.js'
import { makeMountpoint } from '../test/fixtures/paths.js'
import { startCeiling, type Ceiling } from './ceiling/start.js'
import { startKernelCeiling } from './ceiling/start-kernel.js'
import { engineColumn, fsColumn, mapnfsColumn, nfsCpColumn, peakRss, unavailable, type Column, type Env } from './compare/columns.js'
import {
  APP_ID, COLUMNS, DELAY_COLUMNS, DELAY_LOADS, DELAY_MS, FULL, isMapnfs, LOAD_ORDER, LOADS, MAIN_COLUMNS, POOL_WORKERS, QUICK, SERVER_ID,
  type ColumnKey, type LoadKey, type Params, type Phase,
} from './compare/config.js'
import { prepareCeiling, prepareExport, prepareNfsCpFiles, type NfsCpFiles } from './compare/prepare.js'
import { printCpu, printDaemons, printDelay, printFrontends, printMain, printRatios, Results, type ReportInput } from './compare/report.js'
import { pooledEngineExported, startEngine } from './engine/start.js'
import { staleBuild } from './lib/dist.js'
import { requireFio } from './lib/fio.js'
import { machineBusyOver } from './lib/cpu.js'
import { describeMachine } from './lib/machine.js'
import { requireNfsCp } from './lib/nfs-cp.js'
import { startDelayProxyChild, type DelayProxyChild } from './proxy/start.js'
import { runTool } from './lib/run.js'

const started = performance.now()
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s`
const progress = (line: string): void => { process.stderr.write(`[${elapsed()}] ${line}\n`) }
const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!
const pct = (x: number): string => `${Math.round(100 * x)}%`
const fmtMs = (ms: number | undefined): string => (ms === undefined ? '?' : `${ms.toFixed(2)} ms`)
/** Before and after the run, the machine is watched this long with nothing of ours running. */
const IDLE_CHECK_MS = 2000
const BUSY_WARNING = 0.1

function requireTools(): void {
  if (process.getuid?.() !== 0) throw new Error('bench:compare needs root (nfs-ganesha, FUSE mounts, setpriv): run it as root')
  requireFio()
  requireNfsCp()
  requireCli()
  if (!existsSync(new URL('../build/xdr.wasm', import.meta.url))) throw new Error('build/xdr.wasm is missing: npm run build')
}

/**
 * What the CLI offers: issue 7 adds `workers=N` (without it there is no pooled mount to measure);
 * `frontend=kernel|libfuse2` picks the FUSE front end (without it there is no kernel mount).
 */
async function cliOptions(): Promise<{ workers: boolean; frontend: boolean }> {
  const r = await runTool(process.execPath, [cliPath, '--help'], { timeoutMs: 30_000 })
  const help = r.stdout + r.stderr
  return { workers: /workers=/.test(help), frontend: /frontend=kernel/.test(help) }
}

/**
 * Starts a column; one that fails to start shows n/a with the reason, and the failure is listed
 * as a problem (the run goes on with the other columns, and exits 1).
 */
async function tryColumn(key: ColumnKey, problems: string[], start: () => Promise<Column>): Promise<Column> {
  try {
    return await start()
  } catch (err) {
    progress(`${COLUMNS[key]}: could not start: ${firstLine(err)}`)
    problems.push(`${COLUMNS[key]} could not start: ${firstLine(err)}`)
    return unavailable(key, firstLine(err))
  }
}

interface Setup {
  env: Env
  g: Ganesha
  cpFiles: NfsCpFiles
  hasWorkers: boolean
  hasFrontend: boolean
  pooledEngine: boolean
  /** Median GETATTR round trip of the inline engine, ms, per NFS port it was measured through. */
  rttMs: Map<number, number>
  problems: string[]
}

/** GETATTRs timed to measure a round trip (what the delay proxy adds shows against the direct one). */
const PINGS = 50

/** Every NFS-speaking column, talking to NFS_PORT (ganesha's, or the delay proxy's). */
async function nfsColumns(s: Setup, nfsPort: number, suffix: string): Promise<Map<ColumnKey, Column>> {
  const { env, g } = s
  const cols = new Map<ColumnKey, Column>()
  const driver = (kind: 'inline' | 'pooled') => startEngine({
    kind, workers: POOL_WORKERS, host: '127.0.0.1', nfsPort, mountPort: g.mountPort, exportPath: env.exportDir, uid: SERVER_ID, gid: SERVER_ID, localId: APP_ID,
  })
  cols.set('engine', await tryColumn('engine', s.problems, async () => {
    const d = await driver('inline')
    s.rttMs.set(nfsPort, (await d.run({ load: 'ping', count: PINGS })).medianMs!)
    return engineColumn(env, 'engine', d)
  }))
  cols.set('enginePooled', s.pooledEngine
    ? await tryColumn('enginePooled', s.problems, async () => engineColumn(env, 'enginePooled', await driver('pooled')))
    : unavailable('enginePooled', 'src/engine exports no PooledEngine'))
  const server = { nfsPort, mountPort: g.mountPort }
  cols.set('nfscp', nfsCpColumn(env, { ...s.cpFiles, url: (name) => nfsUrl(server, `${env.exportDir}/${name}`, { uid: SERVER_ID, gid: SERVER_ID }) }))
  const mount = (key: ColumnKey, extra: string[]): Promise<Column> => tryColumn(key, s.problems, async () => {
    const opts = [`uid=${SERVER_ID},gid=${SERVER_ID},${portOptions(server)},stats`, ...extra].join(',')
    return mapnfsColumn(env, key, await mountCli(nfsSource(env.exportDir), makeMountpoint(), ['-o', opts]))
  })
  // libfuse2 explicitly, so that these columns keep meaning fuse-native whatever the default becomes.
  const libfuse2 = s.hasFrontend ? ['frontend=libfuse2'] : []
  const inline = s.hasWorkers ? ['workers=0'] : []
  const pooled = [`workers=${POOL_WORKERS}`]
  cols.set('inline', await mount('inline', [...libfuse2, ...inline]))
  cols.set('pooled', s.hasWorkers ? await mount('pooled', [...libfuse2, ...pooled]) : unavailable('pooled', 'no workers option'))
  cols.set('kinline', s.hasFrontend ? await mount('kinline', ['frontend=kernel', ...inline]) : unavailable('kinline', 'no frontend option'))
  cols.set('kpooled', !s.hasFrontend ? unavailable('kpooled', 'no frontend option')
    : s.hasWorkers ? await mount('kpooled', ['frontend=kernel', ...pooled]) : unavailable('kpooled', 'no workers option'))
  progress(`columns${suffix} ready`)
  return cols
}

async function runPhase(r: Results, phase: Phase, cols: Map<ColumnKey, Column>, order: ColumnKey[], loads: LoadKey[], reps: number): Promise<void> {
  for (let rep = 0; rep < reps; rep++) {
    for (const load of loads) {
      const keys = order.filter((k) => LOADS[load].on.includes(k) && cols.get(k)?.unavailable === undefined)
      if (rep % 2 === 1) keys.reverse()
      for (const key of keys) {
        const what = `${phase === 'delay' ? `+${DELAY_MS} ms ` : ''}${LOADS[load].label} on ${COLUMNS[key]} (${rep + 1}/${reps})`
        try {
          const s = await cols.get(key)!.run(load, phase, rep)
          r.add(phase, load, key, s)
          progress(`${what}: ${s.value.toFixed(1)} ${LOADS[load].unit}`)
        } catch (err) {
          r.fail(phase, load, key, err as Error)
          progress(`${what}: FAILED ${firstLine(err)}`)
        }
      }
    }
  }
}

/** Records each column's peak RSS and stops them all; a failed stop is a problem, not an abort. */
async function stopAll(cols: Map<ColumnKey, Column>, peakRssMiB: Map<string, number>, prefix: string, problems: string[]): Promise<void> {
  for (const c of [...cols.values()].reverse()) {
    const rss = peakRss(c)
    if (rss !== undefined) peakRssMiB.set(`${prefix}${c.key}`, rss)
    await c.stop().catch((err: Error) => problems.push(`stopping ${COLUMNS[c.key]}: ${firstLine(err)}`))
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const jsonAt = process.argv.indexOf('--json')
  const jsonPath = jsonAt > 0 ? process.argv[jsonAt + 1] : undefined
  const p: Params = quick ? QUICK : FULL
  requireTools()
  const stale = staleBuild()
  if (stale.length > 0) progress(`warning: dist/ is older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ' ...' : ''}: run npm run build`)
  const { workers: hasWorkers, frontend: hasFrontend } = await cliOptions()
  const pooledEngine = await pooledEngineExported()
  const busyBefore = await machineBusyOver(IDLE_CHECK_MS)
  if (busyBefore > BUSY_WARNING) progress(`warning: the machine is ${pct(busyBefore)} busy before anything started: other tenants; numbers will be low`)

  const r = new Results()
  const problems: string[] = []
  const peakRssMiB = new Map<string, number>()
  const delayWritten = new Map<ColumnKey, number>()
  const columns = new Map<ColumnKey, Column>()
  let delayColumns = new Map<ColumnKey, Column>()
  const rttMs = new Map<number, number>()
  const exportDir = makeExportDir()
  let g: Ganesha | undefined
  let cpFiles: NfsCpFiles | undefined
  let proxy: DelayProxyChild | undefined
  try {
    g = await startGanesha({ exports: [{ path: exportDir }] })
    prepareExport(exportDir, p)
    cpFiles = prepareNfsCpFiles(p)
    // The orchestrator too, so that "rest" in the CPU table is kernel threads and other tenants only.
    const env: Env = { p, exportDir, watch: { ganesha: g.pid, bench: process.pid } }
    const s: Setup = { env, g, cpFiles, hasWorkers, hasFrontend, pooledEngine, rttMs, problems }
    progress(`ganesha (pid ${g.pid}) serves ${exportDir}; files prepared`)

    columns.set('export', fsColumn(env, 'export', { root: exportDir, backing: exportDir, invalidate: false, keepCreated: false }, undefined, async () => undefined))
    // Both FUSE ceilings the same way: in-memory, caching off, their files copied in through the mount.
    const ceiling = (key: ColumnKey, start: (mountpoint: string) => Promise<Ceiling>): Promise<Column> => tryColumn(key, problems, async () => {
      const c = await start(makeMountpoint())
      try {
        await prepareCeiling(c.mountpoint, exportDir, p)
      } catch (err) {
        await c.stop().catch(() => undefined)
        throw err
      }
      return fsColumn(env, key, { root: c.mountpoint, backing: c.mountpoint, invalidate: true, keepCreated: true }, c.pid, () => c.stop())
    })
    columns.set('ceiling', await ceiling('ceiling', (mp) => startCeiling(mp)))
    columns.set('kceiling', await ceiling('kceiling', (mp) => startKernelCeiling(mp)))
    for (const [k, c] of await nfsColumns(s, g.nfsPort, '')) columns.set(k, c)
    await runPhase(r, 'main', columns, MAIN_COLUMNS, LOAD_ORDER, p.reps)
    await stopAll(columns, peakRssMiB, '', problems)

    proxy = await startDelayProxyChild(g.nfsPort, DELAY_MS)
    env.watch.proxy = proxy.pid
    delayColumns = await nfsColumns(s, proxy.port, ` through the +${DELAY_MS} ms proxy (pid ${proxy.pid})`)
    await runPhase(r, 'delay', delayColumns, DELAY_COLUMNS, DELAY_LOADS, p.delayReps)
    for (const key of DELAY_COLUMNS.filter(isMapnfs)) {
      const written = Math.max(0, ...r.samples('delay', 'seqWrite', key).map((x) => x.bytes))
      delayWritten.set(key, written / 2 ** 20)
    }
    await stopAll(delayColumns, peakRssMiB, 'delay:', problems)
  } finally {
    // Whatever an error left running (stop() is idempotent for what stopAll already stopped).
    for (const c of [...delayColumns.values(), ...columns.values()].reverse()) await c.stop().catch(() => undefined)
    await proxy?.stop().catch((err: Error) => problems.push(`stopping the delay proxy: ${firstLine(err)}`))
    cpFiles?.remove()
    await g?.stop().catch((err: Error) => problems.push(`stopping nfs-ganesha: ${firstLine(err)}`))
  }
  const busyAfter = await machineBusyOver(IDLE_CHECK_MS)
  const direct = g === undefined ? undefined : rttMs.get(g.nfsPort)
  const delayed = proxy === undefined ? undefined : rttMs.get(proxy.port)

  const input: ReportInput = { r, columns, delayColumns, peakRss: peakRssMiB, delayWritten }
  const sizes = `seq files ${p.seqSize / 2 ** 20} MiB, random reads ${p.randSeconds} s, stat ${p.statSeconds} s over ${p.lsEntries} files, ${p.creates} creates, ` +
    `${p.reps} repetitions (delayed loads: ${p.delayReps}, each capped at ${p.delaySeconds} s)`
  process.stdout.write(`\nmapnfs bench:compare${quick ? ' --quick' : ''}, ${new Date().toISOString()}\n${describeMachine().join('\n')}\n${sizes}\n` +
    `loads run as uid ${APP_ID}; mounts: -o uid=${SERVER_ID},gid=${SERVER_ID}, libfuse2 columns frontend=libfuse2, kernel columns frontend=kernel ` +
    `(inline: workers=0, pooled: workers=${POOL_WORKERS}); nfs-ganesha on 127.0.0.1 (VFS, ext4)\n` +
    `machine busy with nothing of ours running: ${pct(busyBefore)} before, ${pct(busyAfter)} after (other tenants; above ~${pct(BUSY_WARNING)} the numbers are low)\n` +
    `GETATTR round trip (engine, median of ${PINGS}): ${fmtMs(direct)} direct, ${fmtMs(delayed)} through the +${DELAY_MS} ms proxy\n\n`)
  printMain(input, 'medians (MiB/s, IOPS or ops/s; ls: entries/s and seconds per listing)')
  process.stdout.write('\n')
  printRatios(input)
  printFrontends(input)
  printDelay(input)
  process.stdout.write('\n')
  printDaemons(input)
  printCpu(input)
  if (jsonPath !== undefined) writeFileSync(jsonPath, `${JSON.stringify({ params: p, samples: r.dump(), peakRss: Object.fromEntries(peakRssMiB), rttMs: Object.fromEntries(rttMs) }, null, 1)}\n`)
  for (const e of [...r.errors, ...problems]) process.stdout.write(`problem: ${e}\n`)
  process.stdout.write(`total ${((performance.now() - started) / 1000).toFixed(0)} s\n`)
  if (r.errors.length + problems.length > 0) process.exitCode = 1
}

await main().catch((err: Error) => {
  process.stderr.write(`bench:compare failed: ${err.stack ?? err.message}\n`)
  process.exitCode = 1
})

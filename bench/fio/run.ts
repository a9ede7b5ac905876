// fio against a mapnfs mount and, in the same run, against the export directory itself (local ext4:
// the ceiling), with a table of both and their ratio.
//
// Starts a private nfs-ganesha on 127.0.0.1 (test/fixtures/ganesha.ts), mounts it with
// `mapnfs mount ... -o uid=1234,gid=1234,<ports>,stats`, and runs every bench/fio/**/*.fio job as
// local uid/gid 2000 (`setpriv --reuid=2000 --regid=2000 --clear-groups fio --output-format=json`),
// first in <mount>/mapnfs, then in <export>/local. Each job file reads its directory from
// ${MAPNFS_DIR}. Afterwards: unmount (printing the mount's stats line), stop ganesha. The fixtures'
// exit-time safety net undoes all of it on an error or SIGINT/SIGTERM too, and the fio child is
// registered there as well, so nothing keeps running or stays mounted.
//
// Run as root: npm run bench:fio [-- FILTER...]   (FILTER: substrings of the job paths)
// Needs: npm run build (dist/ and build/xdr.wasm), fio, nfs-ganesha, rpcbind, fuse.
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../../test/fixtures/ganesha.js'
import { mountCli, requireCli, type MountedCli } from '../../test/fixtures/mount.js'
import { makeMountpoint } from '../../test/fixtures/paths.js'
import { requireFio, runFio, type FioResult } from '../lib/fio.js'
import { printTable } from '../lib/side-by-side.js'

const APP_ID = 2000 // the local user fio runs as
const SERVER_ID = 1234 // the mount's server-side identity
/** One fio run: layout (up to 256 MiB, written through the mount) plus 10 s of runtime, with room. */
const FIO_TIMEOUT_MS = 90_000
/** The whole run stays under 3 minutes: no new fio run starts after this. */
const RUN_BUDGET_MS = 165_000
/** Run the job directories in this order (reads lay out their files; writes and meta follow). */
const GROUP_ORDER = ['read', 'write', 'mix', 'meta']

const fioDir = dirname(fileURLToPath(import.meta.url))
const root = join(fioDir, '..', '..')
const started = Date.now()

function findJobs(filters: string[]): string[] {
  const groups = readdirSync(fioDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => {
      const ia = GROUP_ORDER.indexOf(a)
      const ib = GROUP_ORDER.indexOf(b)
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b)
    })
  return groups
    .flatMap((g) => readdirSync(join(fioDir, g)).filter((f) => f.endsWith('.fio')).sort().map((f) => join(fioDir, g, f)))
    .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
}

function requireTools(): void {
  if (process.getuid?.() !== 0) throw new Error('bench:fio needs root (nfs-ganesha, FUSE mount, setpriv): run it as root')
  requireFio()
  requireCli()
  if (!existsSync(join(root, 'build', 'xdr.wasm'))) throw new Error('build/xdr.wasm is missing: npm run build')
}

/** Runs one job file as APP_ID in DIR (the job reads its directory from ${MAPNFS_DIR}). */
function fio(job: string, dir: string): Promise<FioResult> {
  return runFio(job, { uid: APP_ID, cwd: dir, env: { MAPNFS_DIR: dir }, timeoutMs: FIO_TIMEOUT_MS })
}

/** A new world-writable directory (root creates it; fio runs as APP_ID). */
function freshDir(path: string): string {
  mkdirSync(path)
  chmodSync(path, 0o777)
  return path
}

function fmt(x: number, digits = 0): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(digits)
}

async function main(): Promise<void> {
  requireTools()
  const jobs = findJobs(process.argv.slice(2))
  if (jobs.length === 0) throw new Error(`no .fio job matches ${process.argv.slice(2).join(' ')}`)

  const exp = makeExportDir()
  let g: Ganesha | undefined
  let m: MountedCli | undefined
  const rows: string[][] = []
  const problems: string[] = []
  let statsLine = '(no stats line)'
  try {
    g = await startGanesha({ exports: [{ path: exp }] })
    const mnt = makeMountpoint()
    m = await mountCli(nfsSource(exp), mnt, ['-o', `uid=${SERVER_ID},gid=${SERVER_ID},${portOptions(g)},stats`])
    for (const [i, job] of jobs.entries()) {
      const name = relative(fioDir, job).replace(/\.fio$/, '')
      if (Date.now() - started > RUN_BUDGET_MS) {
        problems.push(`${name}: skipped, the run is over its ${RUN_BUDGET_MS / 1000} s budget`)
        continue
      }
      // Both targets live on the same ext4: <export>/mapnfs-N is reached through the mount,
      // <export>/local-N directly. Fresh names per job: no file, cached page or cached handle of one
      // job is reused by the next.
      const onServer = freshDir(join(exp, `mapnfs-${i}`))
      const local = freshDir(join(exp, `local-${i}`))
      const a = await fio(job, join(mnt, `mapnfs-${i}`))
      const b = await fio(job, local)
      rmSync(onServer, { recursive: true, force: true })
      rmSync(local, { recursive: true, force: true })
      for (const [who, r] of [['mapnfs', a], ['local', b]] as const) if (r.error) problems.push(`${name} (${who}): ${r.error}`)
      // The meta engines report a fake 4 KiB transfer per file: only IOPS mean anything there.
      const meta = name.startsWith('meta/')
      rows.push([
        name,
        meta ? '-' : fmt(a.mibs, 1),
        fmt(a.iops),
        meta ? '-' : fmt(b.mibs, 1),
        fmt(b.iops),
        b.iops > 0 ? `${((100 * a.iops) / b.iops).toFixed(1)}%` : '-',
      ])
    }
  } finally {
    if (m !== undefined) {
      const u = await m.unmount().catch((e: Error) => ({ code: -1, stderr: e.message }))
      statsLine = u.stderr.split('\n').find((l) => l.startsWith('mapnfs: stats ')) ?? `(no stats line; mapnfs exited ${u.code}: ${u.stderr.trim().split('\n').slice(-2).join(' | ')})`
      if (u.code !== 0) problems.push(`mapnfs exited ${u.code} after SIGTERM`)
    }
    if (g !== undefined) await g.stop()
  }
  printTable(
    `fio as uid ${APP_ID}: mapnfs (uid=${SERVER_ID},gid=${SERVER_ID} -> nfs-ganesha on 127.0.0.1) vs the export dir directly (local ext4); ${new Date().toISOString()}`,
    ['job', 'mapnfs MiB/s', 'mapnfs IOPS', 'local MiB/s', 'local IOPS', 'mapnfs/local'],
    rows,
  )
  process.stdout.write(`${statsLine}\n`)
  for (const p of problems) process.stdout.write(`problem: ${p}\n`)
  process.stdout.write(`total ${((Date.now() - started) / 1000).toFixed(0)} s\n`)
  if (problems.length > 0) process.exitCode = 1
}

await main().catch((err: Error) => {
  process.stderr.write(`bench:fio failed: ${err.stack ?? err.message}\n`)
  process.exitCode = 1
})

// What local permission checks cost: the same metadata loads through a mapnfs mount with `perm`
// (the kernel checks every access against the displayed owner and mode: FUSE default_permissions)
// and with `noperm` (only the server checks), with attribute caching off and on, in one run.
//
// With default_permissions the kernel needs fresh attributes before each permission check; with
// caching off they are never fresh, so every directory a path walk crosses may cost the daemon a
// GETATTR (one RPC). This bench counts it: ops/s and NFS calls per op, from the daemon's own
// `stats` line (each phase runs on its own mount, so the counters belong to that phase only).
//
// Loads, run as local uid 2000 in a directory two levels deep (d1/d2):
//   stat    fs.statSync of 1000 existing files
//   create  open(O_CREAT|O_EXCL) + close of 300 new files
//   ls -l   readdir + lstat of every entry of a 1000-entry directory
// Each (mode, cache) case runs ROUNDS times, alternating the order of perm and noperm; the table
// shows medians and the perm/noperm ratio.
//
// Run as root: npm run bench:perm      (needs npm run build, nfs-ganesha, rpcbind, fuse)
import { mkdirSync, writeFileSync, chownSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../../test/fixtures/ganesha.js'
import { mountCli, requireCli, runAs } from '../../test/fixtures/mount.js'
import { makeMountpoint } from '../../test/fixtures/paths.js'
import { printTable } from '../lib/side-by-side.js'

const APP = 2000
const SERVER = 1234
const FILES = 1000
const CREATES = 300
const ROUNDS = 3

type Phase = 'stat' | 'create' | 'ls -l'

const WORKLOAD: Record<Phase, (dir: string, round: string) => string> = {
  stat: (dir) => `for (let i = 0; i < ${FILES}; i++) fs.statSync(${JSON.stringify(dir)} + '/f' + i); return ${FILES}`,
  create: (dir, round) => `const d = ${JSON.stringify(dir)} + '/new-${round}'; fs.mkdirSync(d);
    for (let i = 0; i < ${CREATES}; i++) fs.closeSync(fs.openSync(d + '/c' + i, 'wx')); return ${CREATES}`,
  'ls -l': (dir) => `const names = fs.readdirSync(${JSON.stringify(dir)}); for (const n of names) fs.lstatSync(${JSON.stringify(dir)} + '/' + n); return names.length`,
}

interface Sample { opsPerSec: number; callsPerOp: number }

async function runPhase(g: Ganesha, exp: string, mode: 'perm' | 'noperm', cache: boolean, phase: Phase, round: string): Promise<Sample> {
  const mnt = makeMountpoint()
  const m = await mountCli(nfsSource(exp), mnt, ['-o', `uid=${SERVER},gid=${SERVER},${portOptions(g)},${mode},cache=${cache},stats`])
  let ops = 0
  let seconds = 0
  try {
    const dir = join(mnt, 'd1', 'd2')
    const code = `const fs = require('fs'); const t0 = process.hrtime.bigint();
      const n = (() => { ${WORKLOAD[phase](dir, `${mode}-${cache}-${round}`)} })();
      console.log(n, Number(process.hrtime.bigint() - t0) / 1e9)`
    const r = await runAs(APP, APP, process.execPath, ['-e', code], { timeoutMs: 120_000 })
    if (r.code !== 0) throw new Error(`${phase} (${mode}, cache=${cache}) failed: ${r.stderr.trim()}`)
    ;[ops, seconds] = r.stdout.trim().split(' ').map(Number) as [number, number]
  } finally {
    const u = await m.unmount()
    const line = u.stderr.split('\n').find((l) => l.startsWith('mapnfs: stats '))
    if (!line) throw new Error(`no stats line from the ${mode} mount: ${u.stderr}`)
    const calls = (JSON.parse(line.slice('mapnfs: stats '.length)) as { calls: number }).calls
    // Mounting and the readiness check cost a handful of calls: small next to 300-1000 ops.
    return { opsPerSec: ops / seconds, callsPerOp: calls / Math.max(1, ops) }
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:perm needs root (nfs-ganesha, FUSE mounts, setuid children)')
  requireCli()
  const exp = makeExportDir()
  const dir = join(exp, 'd1', 'd2')
  mkdirSync(dir, { recursive: true })
  for (const d of [join(exp, 'd1'), dir]) chownSync(d, SERVER, SERVER)
  for (let i = 0; i < FILES; i++) {
    writeFileSync(join(dir, `f${i}`), '')
    chownSync(join(dir, `f${i}`), SERVER, SERVER)
  }
  const g = await startGanesha({ exports: [{ path: exp }] })
  const rows: string[][] = []
  try {
    for (const cache of [false, true]) {
      for (const phase of Object.keys(WORKLOAD) as Phase[]) {
        const res: Record<'perm' | 'noperm', Sample[]> = { perm: [], noperm: [] }
        for (let round = 0; round < ROUNDS; round++) {
          const order = round % 2 === 0 ? (['perm', 'noperm'] as const) : (['noperm', 'perm'] as const)
          for (const mode of order) res[mode].push(await runPhase(g, exp, mode, cache, phase, String(round)))
        }
        const p = { ops: median(res.perm.map((s) => s.opsPerSec)), calls: median(res.perm.map((s) => s.callsPerOp)) }
        const n = { ops: median(res.noperm.map((s) => s.opsPerSec)), calls: median(res.noperm.map((s) => s.callsPerOp)) }
        rows.push([phase, cache ? 'on (3 s)' : 'off', n.ops.toFixed(0), n.calls.toFixed(2), p.ops.toFixed(0), p.calls.toFixed(2), `${(p.ops / n.ops).toFixed(2)}x`])
      }
    }
  } finally {
    await g.stop()
    rmSync(exp, { recursive: true, force: true })
  }
  printTable(
    `metadata as uid ${APP} through mapnfs (uid=${SERVER}): noperm (server checks only) vs perm (kernel default_permissions too); median of ${ROUNDS} alternating rounds; ${new Date().toISOString()}`,
    ['load', 'cache', 'noperm ops/s', 'noperm RPC/op', 'perm ops/s', 'perm RPC/op', 'perm/noperm'],
    rows,
  )
}

await main().catch((err: Error) => {
  process.stderr.write(`bench:perm failed: ${err.stack ?? err.message}\n`)
  process.exitCode = 1
})

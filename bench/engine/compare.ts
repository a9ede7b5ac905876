// Engine configurations side by side through a real mount: the inline engine (workers=0) against
// the pooled one (workers=N), or nconnect=1 against nconnect=N, on the same export in one run.
//
// Starts a private nfs-ganesha on 127.0.0.1 (test/fixtures), lays out the read and stat files on
// the export directly, then for ROUNDS rounds mounts each configuration in turn (the order
// alternates from round to round: ABAB..., BABA...), runs every fio job of bench/engine/fio as
// uid/gid 2000 through a fresh mount, and unmounts. Prints per job and configuration the median
// (and range) of IOPS or MiB/s, the ratio to the first configuration, and where the CPU went
// during the job: the daemon's main thread, its busiest other thread, the whole daemon, and
// ganesha (percent of one core, from /proc/PID/task/*/stat).
//
// Run as root: npm run bench:engine [-- --rounds 5 --runtime 5 --config inline=workers=0 --config pooled=workers=2 --only rand]
// (--config NAME=OPTS repeated: the mount options of each configuration; --only PATTERN: jobs whose
// file name contains it.)
// Needs: npm run build, fio, nfs-ganesha, rpcbind, fuse, setpriv.
import { spawn } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, closeSync, writeSync, writeFileSync, chmodSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../../test/fixtures/ganesha.js'
import { mountCli, requireCli } from '../../test/fixtures/mount.js'
import { makeMountpoint } from '../../test/fixtures/paths.js'
import { baseEnv, killSync, onExit } from '../../test/fixtures/proc.js'
import { printTable } from '../lib/side-by-side.js'

const APP_ID = 2000
const SERVER_ID = 1234
const FIO_TIMEOUT_MS = 180_000
const CLK_TCK = 100
const here = dirname(fileURLToPath(import.meta.url))

interface Config { name: string; opts: string }
interface Sample { value: number; unit: 'IOPS' | 'MiB/s'; cpu: CpuUse; error?: string }
interface CpuUse { main: number; other: number; daemon: number; server: number }

function parseArgs(argv: string[]): { rounds: number; runtime: number; configs: Config[]; only: string[] } {
  let rounds = 3
  let runtime = 5
  const configs: Config[] = []
  const only: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const v = (): string => {
      const x = argv[++i]
      if (x === undefined) throw new Error(`${a} needs a value`)
      return x
    }
    if (a === '--rounds') rounds = Number(v())
    else if (a === '--runtime') runtime = Number(v())
    else if (a === '--config') {
      const s = v()
      const eq = s.indexOf('=')
      configs.push({ name: s.slice(0, eq), opts: s.slice(eq + 1) })
    } else if (a === '--only') only.push(v())
    else throw new Error(`unknown argument ${a}`)
  }
  if (configs.length === 0) configs.push({ name: 'inline', opts: 'workers=0' }, { name: 'pooled', opts: 'workers=2' })
  return { rounds, runtime, configs, only }
}

/** CPU ticks per thread of PID (tid -> utime + stime). */
function threadTicks(pid: number): Map<number, number> {
  const out = new Map<number, number>()
  let tids: string[] = []
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(Number(tid), Number(f[11]) + Number(f[12]))
    } catch {
      // the thread ended meanwhile
    }
  }
  return out
}

function cpuBetween(pid: number, serverPid: number, before: [Map<number, number>, Map<number, number>], ms: number): CpuUse {
  const [d0, s0] = before
  const d1 = threadTicks(pid)
  const s1 = threadTicks(serverPid)
  const pct = (ticks: number): number => (100 * ticks) / CLK_TCK / (ms / 1000)
  let main = 0
  let other = 0
  let daemon = 0
  for (const [tid, t] of d1) {
    const dt = t - (d0.get(tid) ?? 0)
    daemon += dt
    if (tid === pid) main = dt
    else other = Math.max(other, dt)
  }
  let server = 0
  for (const [tid, t] of s1) server += t - (s0.get(tid) ?? 0)
  return { main: pct(main), other: pct(other), daemon: pct(daemon), server: pct(server) }
}

function fio(job: string, dir: string, runtime: number): Promise<{ value: number; unit: 'IOPS' | 'MiB/s'; error?: string }> {
  return new Promise((resolve, reject) => {
    const args = [`--reuid=${APP_ID}`, `--regid=${APP_ID}`, '--clear-groups', 'fio', '--output-format=json', job]
    const child = spawn('/usr/bin/setpriv', args, { cwd: dir, env: baseEnv({ MAPNFS_DIR: dir, MAPNFS_RUNTIME: String(runtime) }), stdio: ['ignore', 'pipe', 'pipe'] })
    const pid = child.pid
    if (pid === undefined) return reject(new Error('could not start fio'))
    const deregister = onExit(() => (killSync(pid) ? `fio ${job} (pid ${pid})` : undefined))
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), FIO_TIMEOUT_MS)
    child.once('close', (code) => {
      clearTimeout(timer)
      deregister()
      const meta = /stat|create/.test(job)
      try {
        const j = JSON.parse(out.slice(out.indexOf('{'))) as { jobs: { error: number; read: { bw_bytes: number; iops: number }; write: { bw_bytes: number; iops: number } }[] }
        let bw = 0
        let iops = 0
        for (const x of j.jobs) {
          bw += x.read.bw_bytes + x.write.bw_bytes
          iops += x.read.iops + x.write.iops
        }
        const bad = code !== 0 || j.jobs.some((x) => x.error !== 0)
        const iopsJob = meta || /rand_read_4k/.test(job)
        resolve({ value: iopsJob ? iops : bw / 2 ** 20, unit: iopsJob ? 'IOPS' : 'MiB/s', ...(bad ? { error: `fio exited ${code}: ${err.trim().split('\n').slice(-2).join(' | ')}` } : {}) })
      } catch {
        resolve({ value: 0, unit: 'IOPS', error: `fio exited ${code}: ${(err || out).trim().split('\n').slice(-3).join(' | ')}` })
      }
    })
  })
}

/** The files the read and stat jobs use, written on the export directly (owned by the server identity). */
function layout(exp: string): void {
  const data = join(exp, 'data')
  mkdirSync(data)
  chownSync(data, SERVER_ID, SERVER_ID)
  chmodSync(data, 0o755)
  const chunk = Buffer.alloc(1 << 20)
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE(i * 2654435761 >>> 0, i)
  const fd = openSync(join(data, 'big.dat'), 'w', 0o644)
  for (let i = 0; i < 1024; i++) writeSync(fd, chunk)
  closeSync(fd)
  chownSync(join(data, 'big.dat'), SERVER_ID, SERVER_ID)
  for (let j = 0; j < 4; j++) {
    const f = join(data, `par.${j}.0`)
    const pfd = openSync(f, 'w', 0o644)
    for (let i = 0; i < 256; i++) writeSync(pfd, chunk)
    closeSync(pfd)
    chownSync(f, SERVER_ID, SERVER_ID)
  }
  const small = chunk.subarray(0, 4096)
  for (let i = 0; i < 1000; i++) {
    const f = join(data, `stat.${i}`)
    writeFileSync(f, small, { mode: 0o644 })
    chownSync(f, SERVER_ID, SERVER_ID)
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1))

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:engine needs root (nfs-ganesha, FUSE mounts, setpriv): run it as root')
  for (const bin of ['/usr/bin/fio', '/usr/bin/setpriv']) if (!existsSync(bin)) throw new Error(`${bin} is missing (scripts/setup.sh installs fio)`)
  requireCli()
  const { rounds, runtime, configs, only } = parseArgs(process.argv.slice(2))
  const jobDir = join(here, 'fio')
  const jobs = readdirSync(jobDir).filter((f) => f.endsWith('.fio')).sort()
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  // Reads first (they need the laid-out file), then writes and metadata.
  jobs.sort((a, b) => Number(/write|create/.test(a)) - Number(/write|create/.test(b)))
  const exp = makeExportDir()
  layout(exp)
  const samples = new Map<string, Sample[]>() // `${job}\0${config}`
  let g: Ganesha | undefined
  const started = Date.now()
  try {
    g = await startGanesha({ exports: [{ path: exp }] })
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? configs : [...configs].reverse()
      for (const c of order) {
        const mnt = makeMountpoint()
        const m = await mountCli(nfsSource(exp), mnt, ['-o', `uid=${SERVER_ID},gid=${SERVER_ID},${portOptions(g)},stats${c.opts ? ',' + c.opts : ''}`])
        try {
          for (const job of jobs) {
            let dir = join(mnt, 'data')
            if (/write|create/.test(job)) {
              const name = `w-${c.name}-${r}-${job}`
              const d = join(exp, name)
              mkdirSync(d)
              chownSync(d, SERVER_ID, SERVER_ID)
              chmodSync(d, 0o777)
              dir = join(mnt, name)
            }
            const before: [Map<number, number>, Map<number, number>] = [threadTicks(m.pid), threadTicks(g.pid)]
            const t0 = Date.now()
            const res = await fio(join(jobDir, job), dir, runtime)
            const cpu = cpuBetween(m.pid, g.pid, before, Date.now() - t0)
            const key = `${job}\0${c.name}`
            samples.set(key, [...(samples.get(key) ?? []), { ...res, cpu }])
            process.stderr.write(`round ${r + 1}/${rounds} ${c.name} ${job}: ${fmt(res.value)} ${res.unit}  cpu main ${cpu.main.toFixed(0)}% other ${cpu.other.toFixed(0)}% daemon ${cpu.daemon.toFixed(0)}% ganesha ${cpu.server.toFixed(0)}%${res.error ? '  ERROR ' + res.error : ''}\n`)
            if (/write|create/.test(job)) rmSync(join(exp, `w-${c.name}-${r}-${job}`), { recursive: true, force: true })
          }
        } finally {
          const u = await m.unmount()
          const stats = u.stderr.split('\n').find((l) => l.startsWith('mapnfs: stats '))
          process.stderr.write(`  ${c.name}: ${stats ?? '(no stats line)'}\n`)
        }
      }
    }
  } finally {
    await g?.stop()
  }
  const rows: string[][] = []
  for (const job of jobs) {
    let base = 0
    for (const [ci, c] of configs.entries()) {
      const ss = samples.get(`${job}\0${c.name}`) ?? []
      const vals = ss.map((s) => s.value)
      const med = median(vals)
      if (ci === 0) base = med
      rows.push([
        ci === 0 ? job.replace(/\.fio$/, '') : '',
        c.name,
        `${fmt(med)} ${ss[0]?.unit ?? ''}`,
        `${fmt(Math.min(...vals))}-${fmt(Math.max(...vals))}`,
        ci === 0 ? '1.00' : (med / base).toFixed(2),
        fmt(median(ss.map((s) => s.cpu.main))),
        fmt(median(ss.map((s) => s.cpu.other))),
        fmt(median(ss.map((s) => s.cpu.daemon))),
        fmt(median(ss.map((s) => s.cpu.server))),
        ss.some((s) => s.error) ? 'errors' : '',
      ])
    }
  }
  printTable(
    `mapnfs engines side by side: fio as uid ${APP_ID}, ${rounds} alternating rounds, ${runtime} s per job; median (range); CPU in % of one core during the job; ${new Date().toISOString()}`,
    ['job', 'config', 'median', 'range', 'ratio', 'main%', 'thread%', 'daemon%', 'ganesha%', ''],
    rows,
  )
  process.stdout.write(`configs: ${configs.map((c) => `${c.name} = -o ${c.opts}`).join('; ')}; total ${((Date.now() - started) / 1000).toFixed(0)} s\n`)
}

await main().catch((err: Error) => {
  process.stderr.write(`bench:engine failed: ${err.stack ?? err.message}\n`)
  process.exitCode = 1
})

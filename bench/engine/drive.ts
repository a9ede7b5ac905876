// The engines without FUSE: C concurrent callers each looping over one NFS call (GETATTR, a 4 KiB
// READ, a 128 KiB READ or a 128 KiB WRITE) for a few seconds against a private nfs-ganesha, for
// each engine configuration in turn (alternating order over rounds). Prints calls/s and the CPU
// of this process's main thread, of its busiest other thread (a worker) and of the whole process
// per call: what dispatching to workers costs the main thread, against doing the call inline.
//
// The engines are the compiled ones (dist/, as the CLI runs them; build first): under tsx every
// imported binding is a getter and the workers load TypeScript, which distorts the costs.
//
// Run as root: npx tsx bench/engine/drive.ts [--rounds 3] [--seconds 3] [--concurrency 16]
import { chownSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, startGanesha } from '../../test/fixtures/ganesha.js'
import type { Engine, EngineOptions } from '../../src/engine/index.js'
import { printTable } from '../lib/side-by-side.js'

const CLK_TCK = 100
const dist = new URL('../../dist/', import.meta.url)
const { InlineEngine, PooledEngine } = await import(new URL('engine/index.js', dist).href) as typeof import('../../src/engine/index.js')
const { mnt } = await import(new URL('proto/mount/client.js', dist).href) as typeof import('../../src/proto/mount/client.js')
const { XdrCodec } = await import(new URL('xdr/index.js', dist).href) as typeof import('../../src/xdr/index.js')

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : dflt
}

/** CPU ticks of each thread of this process. */
function threadTicks(): Map<string, number> {
  const out = new Map<string, number>()
  for (const x of readdirSync('/proc/self/task')) {
    try {
      const st = readFileSync(`/proc/self/task/${x}/stat`, 'utf8')
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ')
      out.set(x, Number(f[11]) + Number(f[12]))
    } catch {
      // gone
    }
  }
  return out
}

function ticks(tid?: number): number {
  const tids = tid !== undefined ? [String(tid)] : readdirSync('/proc/self/task')
  let t = 0
  for (const x of tids) {
    const s = readFileSync(`/proc/self/task/${x}/stat`, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    t += Number(f[11]) + Number(f[12])
  }
  return t
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const rounds = arg('rounds', 3)
const seconds = arg('seconds', 3)
const concurrency = arg('concurrency', 16)
const allConfigs: { name: string; workers: number; nconnect: number }[] = [
  { name: 'inline', workers: 0, nconnect: 1 },
  { name: 'pooled w=1', workers: 1, nconnect: 1 },
  { name: 'pooled w=2', workers: 2, nconnect: 1 },
]
const only = process.argv.indexOf('--engine')
const configs = only >= 0 ? allConfigs.filter((c) => c.name === process.argv[only + 1]) : allConfigs
const onlyLoad = process.argv.indexOf('--load')

const exp = makeExportDir()
const file = join(exp, 'f')
writeFileSync(file, Buffer.alloc(8 << 20, 1))
chownSync(file, 0, 0)
const g = await startGanesha({ exports: [{ path: exp }] })
const results = new Map<string, { ops: number; mainUs: number; procUs: number; otherUs: number }[]>()
try {
  const codec = XdrCodec.load()
  const auth = { stamp: 1, machine: 'bench', uid: 0, gid: 0, gids: [0] }
  const cred = { auth, map: null }
  const base = { host: '127.0.0.1', timeoutMs: 10_000, retrans: 2, reservedPort: false }
  const root = await mnt(codec, { ...base, port: g.mountPort, maxRecord: 65536, reconnect: false }, auth, exp)
  const source = Buffer.alloc(131072, 0x5a)
  const loads: { name: string; run: (e: Engine, fh: Buffer, i: number) => Promise<unknown> }[] = [
    { name: 'GETATTR', run: (e, fh) => e.getattr(cred, fh) },
    { name: 'READ 4 KiB', run: (e, fh, i) => e.read(cred, fh, (i * 4096) % (8 << 20), 4096) },
    { name: 'READ 128 KiB', run: (e, fh, i) => e.read(cred, fh, (i * 131072) % (8 << 20), 131072) },
    { name: 'WRITE 128 KiB', run: (e, fh, i) => {
      // As the FUSE layer does: the kernel's data copied into an engine buffer. (Not fill(): on
      // SharedArrayBuffer memory Buffer.fill took 100 us per 128 KiB here, a copy 13 us.)
      const b = e.allocWriteBuffer(131072)
      source.copy(b)
      b[0] = i & 0xff
      return e.write(cred, fh, (i * 131072) % (8 << 20), b, 0).finally(() => e.releaseWriteBuffer(b))
    } },
  ]
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? configs : [...configs].reverse()
    for (const c of order) {
      const opts: EngineOptions = { ...base, port: g.nfsPort, maxRecord: (1 << 20) + 65536, reconnect: true, nconnect: c.nconnect }
      const e: Engine = c.workers === 0 ? await InlineEngine.open(opts, codec) : await PooledEngine.open({ ...opts, workers: c.workers })
      const fh = (await e.lookup(cred, root, 'f')).fh!
      for (const load of loads.filter((l) => onlyLoad < 0 || l.name === process.argv[onlyLoad + 1])) {
        // warm up
        await Promise.all(Array.from({ length: concurrency }, (_, k) => load.run(e, fh, k)))
        let n = 0
        const stopAt = Date.now() + seconds * 1000
        const m0 = ticks(process.pid)
        const p0 = ticks()
        const th0 = threadTicks()
        const t0 = Date.now()
        await Promise.all(Array.from({ length: concurrency }, async (_, k) => {
          for (let i = k; Date.now() < stopAt; i += concurrency) {
            await load.run(e, fh, i)
            n++
          }
        }))
        const el = (Date.now() - t0) / 1000
        const mainUs = ((ticks(process.pid) - m0) / CLK_TCK) * 1e6 / n
        const procUs = ((ticks() - p0) / CLK_TCK) * 1e6 / n
        let busiest = 0
        for (const [tid, t] of threadTicks()) if (tid !== String(process.pid)) busiest = Math.max(busiest, t - (th0.get(tid) ?? 0))
        const otherUs = (busiest / CLK_TCK) * 1e6 / n
        const key = `${load.name}\0${c.name}`
        results.set(key, [...(results.get(key) ?? []), { ops: n / el, mainUs, procUs, otherUs }])
        const ts = e instanceof PooledEngine ? e.transferStats() : undefined
        const batch = ts !== undefined ? `, calls per batch ${(ts.dispatched / ts.batchesIn).toFixed(1)}, replies per batch ${(ts.dispatched / ts.batchesOut).toFixed(1)}` : ''
        process.stderr.write(`round ${r + 1} ${c.name} ${load.name}: ${(n / el).toFixed(0)}/s, main ${mainUs.toFixed(1)} us/call, busiest other thread ${otherUs.toFixed(1)}, process ${procUs.toFixed(1)} us/call${batch}\n`)
      }
      await e.close()
    }
  }
} finally {
  await g.stop()
}
const rows: string[][] = []
for (const key of results.keys()) {
  const [load, cfg] = key.split('\0') as [string, string]
  const rs = results.get(key)!
  rows.push([load, cfg, median(rs.map((x) => x.ops)).toFixed(0), median(rs.map((x) => x.mainUs)).toFixed(1), median(rs.map((x) => x.otherUs)).toFixed(1), median(rs.map((x) => x.procUs)).toFixed(1)])
}
rows.sort((a, b) => a[0]!.localeCompare(b[0]!))
printTable(`engines without FUSE: ${concurrency} concurrent callers, ${rounds} alternating rounds of ${seconds} s, medians`, ['load', 'engine', 'calls/s', 'main us/call', 'busiest other thread us/call', 'process us/call'], rows)

// How long `mapnfs csi` takes from exec to its first answer, next to `mapnfs --help` (Node and the
// CLI's own start-up) and to loading csi.proto alone in this process, in one run, alternating, so
// the proto loader's share is a ratio on a noisy machine. Run as root: npm run bench:csi [-- N]
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

const root = fileURLToPath(new URL('../..', import.meta.url))
const cli = join(root, 'dist', 'cli', 'main.js')
const proto = join(root, 'src', 'csi', 'proto', 'csi.proto')
const rounds = Number(process.argv[2] ?? 10)
if (!existsSync(cli)) throw new Error('dist/cli/main.js is missing: npm run build')

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

async function firstAnswer(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'mapnfs-csi-bench-'))
  const sock = join(dir, 'csi.sock')
  const t0 = performance.now()
  const child = spawn(process.execPath, [cli, 'csi', '--endpoint', `unix://${sock}`, '--node-id', 'bench', '--state', join(dir, 'state.json'), '--mount-root', dir], { stdio: 'ignore' })
  const def = protoLoader.loadSync(proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })
  const Identity = (grpc.loadPackageDefinition(def) as unknown as { csi: { v1: { Identity: grpc.ServiceClientConstructor } } }).csi.v1.Identity
  let ms = NaN
  for (;;) {
    if (existsSync(sock)) {
      const c = new Identity(`unix://${sock}`, grpc.credentials.createInsecure()) as unknown as { Probe: (r: object, cb: (e: Error | null, r: { ready?: { value: boolean } }) => void) => void; close(): void }
      const ok = await new Promise<boolean>((resolve) => c.Probe({}, (e, r) => resolve(e === null && r.ready?.value === true)))
      c.close()
      if (ok) {
        ms = performance.now() - t0
        break
      }
    }
    await new Promise((r) => setTimeout(r, 5))
  }
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
  rmSync(dir, { recursive: true, force: true })
  return ms
}

const help: number[] = []
const csi: number[] = []
const load: number[] = []
for (let i = 0; i < rounds; i++) {
  let t = performance.now()
  spawnSync(process.execPath, [cli, '--help'], { stdio: 'ignore' })
  help.push(performance.now() - t)
  csi.push(await firstAnswer())
  t = performance.now()
  protoLoader.loadSync(proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })
  load.push(performance.now() - t)
}
const m = { help: median(help), csi: median(csi), load: median(load) }
process.stdout.write(`node ${process.version}, ${rounds} rounds, medians (shared machine: compare the ratios)\n`)
process.stdout.write(`  mapnfs --help (exec to exit)             ${m.help.toFixed(0)} ms\n`)
process.stdout.write(`  mapnfs csi (exec to Probe ready=true)    ${m.csi.toFixed(0)} ms  (${(m.csi / m.help).toFixed(2)}x --help)\n`)
process.stdout.write(`  csi.proto load alone (warm process)      ${m.load.toFixed(0)} ms  (${((100 * m.load) / m.csi).toFixed(0)}% of the csi start-up)\n`)

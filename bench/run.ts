// Runs every micro benchmark (bench/micro/**/*.bench.ts), each in its own Node process so that one
// bench's JIT state and garbage do not leak into the next. Arguments filter by substring of the
// path: `npm run bench -- codec`.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const benchDir = dirname(fileURLToPath(import.meta.url))
const root = dirname(benchDir)

function find(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? find(join(dir, e.name)) : e.name.endsWith('.bench.ts') ? [join(dir, e.name)] : []))
}

if (!existsSync(join(root, 'build', 'xdr.wasm'))) {
  process.stderr.write('build/xdr.wasm is missing: run npm run build (or npm run build:wasm) first\n')
  process.exit(1)
}

const filters = process.argv.slice(2)
const files = find(join(benchDir, 'micro')).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
if (files.length === 0) {
  process.stderr.write(`no micro benchmark matches ${filters.join(' ')}\n`)
  process.exit(1)
}
process.stdout.write(`node ${process.version}, ${new Date().toISOString()}; shared machine: compare the ratios, not the absolute numbers\n\n`)
let failed = 0
for (const f of files) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', f], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    failed++
    process.stderr.write(`${relative(root, f)}: exited ${r.status ?? r.signal}\n`)
  }
}
process.exit(failed === 0 ? 0 : 1)

// Compiles src/daemon/reattach.c into dist/daemon/mapnfs-reattach, the small helper mapnfs serve runs
// to give running containers the new mount after a restart (src/daemon/reattach.ts says why it is
// a separate program). Rebuilt only when the source is newer than the binary.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const source = join(root, 'src', 'daemon', 'reattach.c')
const out = join(root, 'dist', 'daemon', 'mapnfs-reattach')

if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) process.exit(0)
const compiler = ['cc', 'gcc'].find((c) => {
  try {
    execFileSync(c, ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})
if (compiler === undefined) {
  console.error('build-reattach: no C compiler (cc or gcc); run scripts/setup.sh')
  process.exit(1)
}
mkdirSync(dirname(out), { recursive: true })
try {
  execFileSync(compiler, ['-O2', '-Wall', '-Wextra', '-Werror', '-o', out, source], { stdio: 'inherit' })
} catch {
  console.error(`build-reattach: ${compiler} failed on ${source}`)
  process.exit(1)
}

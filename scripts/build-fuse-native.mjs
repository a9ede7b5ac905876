// Rebuilds fuse-native's addon from its patched source.
//
// The patch itself, and why each of its changes exists, is patches/fuse-native+2.2.6.patch;
// patch-package applies it to node_modules/fuse-native on npm install / npm ci (the postinstall
// script). This script only builds:
//   1. checks that every hunk of the patch is in node_modules (else one line: run npm ci, which
//      reinstalls fuse-native and applies the current patch; patch-package alone cannot move an
//      older patched copy to a newer patch);
//   2. runs node-gyp rebuild unless build/Release/fuse.node was built from this very patch file
//      (build/mapnfs-patch.stamp holds the sha256 of the patch it was built from).
// node-gyp-build, which fuse-native's index.js uses, prefers build/Release over the bundled
// prebuild, so the rebuilt addon is picked up without touching fuse-native's JS.
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const patchFile = join(root, 'patches', 'fuse-native+2.2.6.patch')
const require = createRequire(import.meta.url)
const dir = dirname(require.resolve('fuse-native/package.json'))

const fail = (msg) => {
  console.error(`build-fuse-native: ${msg}`)
  process.exit(1)
}

/**
 * The hunks of a unified diff whose result (context and added lines, in order) is not in the file
 * it names: empty when the patch is applied.
 */
function unappliedHunks(patch) {
  const hunks = []
  let file
  let hunk
  for (const line of patch.split('\n')) {
    if (line.startsWith('diff --git ')) {
      hunk = undefined
    } else if (line.startsWith('+++ b/')) {
      file = line.slice('+++ b/'.length).trim()
    } else if (line.startsWith('@@')) {
      hunk = { file, header: line, lines: [] }
      hunks.push(hunk)
    } else if (hunk !== undefined && (line.startsWith(' ') || line.startsWith('+') || line === '')) {
      hunk.lines.push(line.slice(1))
    }
  }
  const texts = new Map()
  const text = (f) => {
    if (!texts.has(f)) texts.set(f, existsSync(join(root, f)) ? readFileSync(join(root, f), 'utf8') : '')
    return texts.get(f)
  }
  // A trailing blank line of the patch file is not part of its last hunk.
  return hunks.filter((h) => !text(h.file).includes(h.lines.join('\n').replace(/\n+$/, '')))
}

const patch = readFileSync(patchFile, 'utf8')
const missing = unappliedHunks(patch)
if (missing.length > 0) {
  fail(`node_modules/fuse-native lacks ${missing.length} hunk(s) of patches/fuse-native+2.2.6.patch (first: ${missing[0].header}): run npm ci`)
}

const built = join(dir, 'build', 'Release', 'fuse.node')
const stamp = join(dir, 'build', 'mapnfs-patch.stamp')
const hash = createHash('sha256').update(patch).digest('hex')
if (existsSync(built) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) process.exit(0)

// node-gyp ships with npm; this Node's own headers (nodedir) avoid a download.
const npmDir = dirname(dirname(require.resolve('npm/package.json', { paths: ['/usr/lib/node_modules', '/usr/local/lib/node_modules'] })))
const gyp = join(npmDir, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
const nodedir = dirname(dirname(process.execPath))
try {
  execFileSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
} catch (err) {
  fail('node-gyp rebuild failed:\n' + String(err.stderr ?? err.message))
}
writeFileSync(stamp, hash + '\n')

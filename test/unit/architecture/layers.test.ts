// Dependencies point one way (style guide §2): cli → serve | csi → daemon → mount → fuse → engine → proto → rpc → xdr,
// serve and csi being siblings that never import each other, with
// identity beside the engine importing no other layer, fuse-native only in fuse/adapter.ts, and
// the WASM core importing nothing from src/. A violating import fails here, naming the file.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const RANK: Record<string, number> = { xdr: 0, rpc: 1, proto: 2, engine: 3, locks: 3, fuse: 4, mount: 5, daemon: 6, serve: 7, csi: 7, cli: 8 }

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : []
  })
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g),
    ...text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g),
    ...text.matchAll(/(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!)
}

function layerOf(file: string): string {
  return relative(join(root, 'src'), file).split('/')[0]!
}

test('src layers import only downwards; identity imports no layer', () => {
  const bad: string[] = []
  for (const file of files(join(root, 'src'))) {
    const from = layerOf(file)
    for (const spec of imports(file)) {
      if (!spec.startsWith('.')) continue
      const target = resolve(dirname(file), spec)
      if (!target.startsWith(join(root, 'src'))) continue
      const to = layerOf(target)
      if (to === from) continue
      if (from === 'identity') bad.push(`${relative(root, file)} -> ${spec} (identity imports no other layer)`)
      else if (to === 'identity') {
        if ((RANK[from] ?? 0) < RANK.engine!) bad.push(`${relative(root, file)} -> ${spec} (only engine and above use identity)`)
      } else if ((RANK[to] ?? 99) >= (RANK[from] ?? -1)) bad.push(`${relative(root, file)} -> ${spec} (${from} must not depend on ${to})`)
    }
  }
  assert.equal(bad, [])
})

test('fuse-native is imported by src/fuse/adapter.ts alone', () => {
  const users = files(join(root, 'src')).filter((f) => imports(f).some((s) => s === 'fuse-native' || s.startsWith('fuse-native/')) || /require\(['"]fuse-native['"]\)/.test(readFileSync(f, 'utf8')))
  assert.equal(users.map((f) => relative(root, f)), ['src/fuse/adapter.ts'])
})

test('src/fuse sees the engine layer only as the Engine interface: type imports from engine/index.ts, nothing else', () => {
  const bad: string[] = []
  for (const file of files(join(root, 'src', 'fuse'))) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/(?:^|\n)\s*(import|export)(\s+type)?\s[^'"]*?from\s+['"]([^'"]+)['"]/g)) {
      const spec = m[3]!
      if (!spec.startsWith('.') || layerOf(resolve(dirname(file), spec)) !== 'engine') continue
      if (m[2] === undefined || resolve(dirname(file), spec) !== join(root, 'src', 'engine', 'index.js')) bad.push(`${relative(root, file)}: ${m[0].trim()}`)
    }
  }
  assert.equal(bad, [])
})

test('threads belong to the engine: piscina in src/engine/pooled.ts alone, worker_threads in src/engine only', () => {
  const users = (pred: (spec: string) => boolean): string[] =>
    files(join(root, 'src')).filter((f) => imports(f).some(pred)).map((f) => relative(root, f)).sort()
  assert.equal(users((s) => s === 'piscina'), ['src/engine/pooled.ts'])
  assert.equal(users((s) => s === 'node:worker_threads' || s === 'worker_threads').filter((f) => !f.startsWith('src/engine/')), [])
})

test('the protocol layers and the WASM core stay free of FUSE and of main-thread-only modules', () => {
  const bad: string[] = []
  for (const dir of ['src/xdr', 'src/rpc', 'src/proto', 'assembly']) {
    for (const file of files(join(root, dir))) {
      for (const spec of imports(file)) {
        if (/fuse/.test(spec) || spec === 'node:worker_threads' || (dir === 'assembly' && spec.includes('/src/'))) bad.push(`${relative(root, file)} -> ${spec}`)
      }
    }
  }
  assert.equal(bad, [])
})

test.run()

// The benchmark's children load the compiled code the CLI runs (dist/), not src/ through tsx: the
// FUSE ceiling then mounts with the very adapter file mapnfs uses, and a pooled engine finds its
// worker scripts as .js. Types still come from src/ (`typeof import('../../src/...')`).
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const distRoot = new URL('../../dist/', import.meta.url)

/** Imports dist/REL (e.g. 'fuse/adapter.js'); the caller casts it to the src module's type. */
export async function importDist<T>(rel: string): Promise<T> {
  return (await import(new URL(rel, distRoot).href)) as T
}

/**
 * The src/ files newer than their compiled dist/ twin (or without one): a bench run on a stale
 * build would measure old code.
 */
export function staleBuild(): string[] {
  const src = fileURLToPath(new URL('../../src/', import.meta.url))
  const dist = fileURLToPath(distRoot)
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    return e.isDirectory() ? walk(p) : e.name.endsWith('.ts') ? [p] : []
  })
  return walk(src).filter((f) => {
    const js = join(dist, f.slice(src.length).replace(/\.ts$/, '.js'))
    return !existsSync(js) || statSync(js).mtimeMs < statSync(f).mtimeMs
  }).map((f) => f.slice(src.length - 'src/'.length))
}

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { PathCache } from '../../../src/fuse/path-cache.js'

const fh = (n: number): Buffer => Buffer.from([n])

test('invalidate drops the path and its subtree, nothing else', () => {
  const c = new PathCache(60_000)
  for (const p of ['/a', '/a/b', '/a/b/c', '/ab', '/x']) c.set(p, fh(p.length))
  c.invalidate('/a')
  assert.is(c.get('/a'), undefined)
  assert.is(c.get('/a/b'), undefined)
  assert.is(c.get('/a/b/c'), undefined)
  assert.ok(c.get('/ab'))
  assert.ok(c.get('/x'))
})

test('entries expire after the TTL, and TTL 0 caches nothing', async () => {
  const c = new PathCache(30)
  c.set('/a', fh(1))
  assert.ok(c.get('/a'))
  await new Promise((r) => setTimeout(r, 40))
  assert.is(c.get('/a'), undefined)
  const off = new PathCache(0)
  off.set('/a', fh(1))
  assert.is(off.get('/a'), undefined)
})

test('against a Map model under random operations', () => {
  let seed = 42
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n)
  const names = ['/a', '/a/b', '/a/b/c', '/b', '/b/a', '/ab']
  const c = new PathCache(60_000)
  const model = new Map<string, Buffer>()
  for (let i = 0; i < 2000; i++) {
    const p = names[rnd(names.length)]!
    if (rnd(3) === 0) {
      c.invalidate(p)
      for (const k of [...model.keys()]) if (k === p || k.startsWith(p + '/')) model.delete(k)
    } else {
      const v = fh(i & 0xff)
      c.set(p, v)
      model.set(p, v)
    }
    for (const n of names) assert.equal(c.get(n), model.get(n), `step ${i} ${n}`)
  }
})

test.run()

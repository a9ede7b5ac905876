// WRITE buffers: shared memory for the pooled engine, reused once released, bounded.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WriteBufferPool } from '../../../src/engine/write-buffers.js'

test('shared buffers live in a SharedArrayBuffer; plain ones in memory of their own, never a pool slab', () => {
  const shared = new WriteBufferPool(true).alloc(131072)
  assert.ok(shared.buffer instanceof SharedArrayBuffer)
  assert.is(shared.length, 131072)
  const plain = new WriteBufferPool(false).alloc(100)
  assert.not.ok(plain.buffer instanceof SharedArrayBuffer)
  assert.is(plain.byteOffset, 0)
  assert.is(plain.buffer.byteLength, 4096, 'its own page-sized memory, not the 8 KiB Buffer pool')
})

test('a released buffer is handed out again (same memory); without release nothing is reused', () => {
  const p = new WriteBufferPool(true)
  const a = p.alloc(131072)
  const b = p.alloc(100_000)
  assert.is.not(a.buffer, b.buffer)
  assert.ok(p.release(a))
  const c = p.alloc(131072)
  assert.is(c.buffer, a.buffer, 'reused')
  assert.is(p.stats().reused, 1)
  const d = p.alloc(131072)
  assert.is.not(d.buffer, a.buffer)
})

test('size classes: a smaller request of the same class reuses the memory', () => {
  const p = new WriteBufferPool(false)
  const a = p.alloc(131072)
  p.release(a)
  const b = p.alloc(70_000)
  assert.is(b.buffer, a.buffer)
  assert.is(b.length, 70_000)
})

test('only whole allocations come back, once: views, foreign buffers and double releases are ignored', () => {
  const p = new WriteBufferPool(true)
  const a = p.alloc(8192)
  assert.not.ok(p.release(a.subarray(4096)), 'a view of part of it')
  assert.not.ok(p.release(a.subarray(0, 4096)), 'a view of its first part (the rest may still be in use)')
  assert.not.ok(p.release(Buffer.alloc(8192)), 'a buffer it did not make')
  assert.ok(p.release(a))
  assert.not.ok(p.release(a), 'twice')
  const x = p.alloc(8192)
  const y = p.alloc(8192)
  assert.is.not(x.buffer, y.buffer, 'a double release must not hand the same memory to two callers')
})

test('the free lists are bounded: beyond maxFreeBytes released memory is left to the GC', () => {
  const p = new WriteBufferPool(true, 2 * 131072)
  const bufs = [p.alloc(131072), p.alloc(131072), p.alloc(131072)]
  assert.equal(bufs.map((b) => p.release(b)), [true, true, false])
  assert.is(p.stats().freeBytes, 2 * 131072)
})

test('above the largest class: exact size, never pooled', () => {
  const p = new WriteBufferPool(true)
  const big = p.alloc(3 * 1024 * 1024)
  assert.is(big.buffer.byteLength, 3 * 1024 * 1024)
  assert.not.ok(p.release(big))
})

test.run()

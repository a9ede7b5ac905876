// The ranges an owner holds after POSIX semantics, and the NLM (offset, len) <-> inclusive range
// conversions at the 64-bit edges.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { addRange, fromNlmRange, overlaps, subtract, TO_EOF, toNlmRange } from '../../../src/locks/held-locks.js'

const r = (start: bigint, end: bigint, exclusive = true) => ({ start, end, exclusive })

test('an unlock in the middle splits a range; at the edges it trims; outside it keeps', () => {
  assert.equal(subtract([r(0n, 99n)], 10n, 19n), [r(0n, 9n), r(20n, 99n)])
  assert.equal(subtract([r(0n, 99n)], 0n, 49n), [r(50n, 99n)])
  assert.equal(subtract([r(0n, 99n)], 50n, TO_EOF), [r(0n, 49n)])
  assert.equal(subtract([r(0n, 9n)], 10n, 19n), [r(0n, 9n)])
  assert.equal(subtract([r(0n, 9n), r(20n, 29n)], 0n, TO_EOF), [])
})

test('a lock replaces what it overlaps of the owner\'s own (type conversion), sorted', () => {
  const held = addRange([r(0n, 99n, false)], 40n, 59n, true)
  assert.equal(held, [r(0n, 39n, false), r(40n, 59n, true), r(60n, 99n, false)])
  assert.equal(addRange(held, 0n, TO_EOF, false), [r(0n, TO_EOF, false)])
  assert.ok(overlaps(held, 59n, 59n))
  assert.not.ok(overlaps([r(0n, 9n)], 10n, TO_EOF))
})

test('NLM ranges: l_len 0 is to the end; the end of the file is OFFSET_MAX both ways; huge ranges clamp', () => {
  assert.equal(toNlmRange(0n, TO_EOF), { offset: 0n, len: 0n })
  assert.equal(toNlmRange(100n, 199n), { offset: 100n, len: 100n })
  assert.equal(fromNlmRange(100n, 100n), { start: 100n, end: 199n })
  assert.equal(fromNlmRange(5n, 0n), { start: 5n, end: TO_EOF })
  // A server may describe a holder with a 64-bit range beyond what the kernel can represent.
  assert.equal(fromNlmRange(0xffffffffffffff00n, 0x1000n), { start: TO_EOF, end: TO_EOF })
  assert.equal(fromNlmRange(10n, 0xffffffffffffffffn), { start: 10n, end: TO_EOF })
})

test.run()

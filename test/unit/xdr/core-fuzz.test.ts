// The WASM core on its own (build/xdr.wasm, no wrapper): random ARG words and random decode
// parameters must give a negative status or a result inside the output region, never a trap. The TS
// wrapper validates its inputs first; this checks the core does not rely on it.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { Rng } from './helpers.js'

interface Core {
  memory: { buffer: ArrayBuffer }
  encode(op: number): number
  decode(op: number, total: number, avail: number, mapOn: number, su: number, sg: number, lu: number, lg: number): number
  ARG_PTR: { value: number }
  OUT_SIZE: { value: number }
  IN_PTR: { value: number }
  IN_SIZE: { value: number }
}

// @types/node 20 does not declare WebAssembly (see src/xdr/codec.ts).
interface WasmApi {
  Module: { new (bytes: Uint8Array): object; imports(module: object): unknown[] }
  Instance: new (module: object, imports: object) => { exports: unknown }
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
const BYTES = readFileSync(new URL('../../../build/xdr.wasm', import.meta.url))

function instantiate(): Core {
  return new WA.Instance(new WA.Module(BYTES), {}).exports as Core
}

// NFS 16..37, portmapper SET/UNSET 4/5, the callback's call/reply 6, NLM 64+, NSM 96+, and strays.
const OPS = [0, 1, 2, 3, ...Array.from({ length: 22 }, (_, i) => 16 + i), 4, 5, 6, 65, 66, 67, 68, 69, 74, 79, 87, 97, 98, 99, 100, 102, 15, 38, 39, 88, 103, 0xffffffff]

test('the module imports nothing', () => {
  assert.equal(WA.Module.imports(new WA.Module(BYTES)), [])
})

test('encode with random argument words: negative status or a record inside OUT', () => {
  const core = instantiate()
  const r = new Rng(21)
  const words = new Uint32Array(core.memory.buffer, core.ARG_PTR.value, 64)
  let ok = 0
  for (let i = 0; i < 5000; i++) {
    for (let w = 0; w < words.length; w++) {
      words[w] = r.bool(0.5) ? r.int(80) : r.edgeU32()
    }
    const n = core.encode(r.pick(OPS))
    // The shortest record is a reply (OP 6): mark, xid, REPLY, MSG_ACCEPTED, verifier, accept_stat.
    assert.ok(n < 0 || (n >= 28 && n <= core.OUT_SIZE.value), `status ${n}`)
    if (n > 0) ok++
  }
  assert.ok(ok > 100, `${ok} records encoded`)
})

test('decode with random lengths and random input bytes: a status, never a trap', () => {
  const core = instantiate()
  const r = new Rng(22)
  const input = new Uint8Array(core.memory.buffer, core.IN_PTR.value, 4096)
  const size = core.IN_SIZE.value
  for (let i = 0; i < 5000; i++) {
    for (let k = 0; k < 64; k++) input[r.int(input.length)] = r.u32() & 0xff
    const total = r.pick([r.int(4097), size, size + 1, 0xffffffff, r.u32()])
    const avail = r.pick([total, r.int(4097), total + 1, 0xffffffff])
    const st = core.decode(r.pick(OPS), total, avail, r.int(2), r.u32(), r.u32(), r.u32(), r.u32())
    assert.ok(Number.isInteger(st) && st <= 0, `status ${st}`)
  }
})

test.run()

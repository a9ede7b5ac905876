// LockCodec (NLM v4, NSM, portmapper SET) on the WASM core: byte layouts checked against the XNFS
// NLM / NSM structures written out by hand here, and the callback's call decoding round-tripped.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { XdrCodec, LockCodec, XdrDecodeError, XdrEncodeError, NLM4_DENIED, NLM4_GRANTED, NLMPROC4_LOCK, SM_MON, type NlmLock } from '../../../src/xdr/index.js'

const codec = new LockCodec(XdrCodec.load())
const cred = { stamp: 7, machine: 'host-a', uid: 1234, gid: 1235, gids: [] }
const lock: NlmLock = { callerName: 'host-a', fh: Buffer.from('0123456789abcdef'), oh: Buffer.from('owner-1'), svid: 42, offset: 100n, len: 0n }

/** XDR words helper: u32 big-endian. */
function be(...words: number[]): Buffer {
  const b = Buffer.alloc(words.length * 4)
  words.forEach((w, i) => b.writeUInt32BE(w >>> 0, i * 4))
  return b
}
function opaque(b: Buffer): Buffer {
  return Buffer.concat([be(b.length), b, Buffer.alloc((4 - (b.length & 3)) & 3)])
}
function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(v)
  return b
}
/** The body after the RPC call header: record mark, 6 header words, AUTH_SYS cred (flavor, len, body), AUTH_NONE verf. */
function argsOf(rec: Buffer): Buffer {
  const credLen = rec.readUInt32BE(4 + 28)
  return rec.subarray(4 + 32 + credLen + 8)
}
function lockBytes(l: NlmLock): Buffer {
  return Buffer.concat([opaque(Buffer.from(l.callerName)), opaque(l.fh), opaque(l.oh), be(l.svid), u64(l.offset), u64(l.len)])
}
/** An accepted SUCCESS reply carrying BODY, without record mark. */
function reply(xid: number, body: Buffer): Buffer {
  return Buffer.concat([be(xid, 1, 0, 0, 0, 0), body])
}

test('LOCK: nlm4_lockargs { cookie, block, exclusive, alock, reclaim, state } under program 100021 v4 proc 2, AUTH_SYS', () => {
  const rec = codec.nlmLock(9, cred, Buffer.from([1, 2, 3, 4, 5]), { block: true, exclusive: true, reclaim: false }, lock, 3)
  assert.equal([...be(9, 0, 2, 100021, 4, 2)], [...rec.subarray(4, 28)])
  assert.is(rec.readUInt32BE(28), 1, 'AUTH_SYS')
  const want = Buffer.concat([opaque(Buffer.from([1, 2, 3, 4, 5])), be(1, 1), lockBytes(lock), be(0, 3)])
  assert.equal(argsOf(rec).toString('hex'), want.toString('hex'))
  assert.is(rec.readUInt32BE(0), (0x80000000 | (rec.length - 4)) >>> 0, 'one last fragment')
})

test('TEST, CANCEL, UNLOCK and FREE_ALL argument layouts', () => {
  const cookie = Buffer.from('ck')
  assert.equal(argsOf(codec.nlmTest(1, cred, cookie, false, lock)).toString('hex'), Buffer.concat([opaque(cookie), be(0), lockBytes(lock)]).toString('hex'))
  assert.equal(argsOf(codec.nlmCancel(1, cred, cookie, true, false, lock)).toString('hex'), Buffer.concat([opaque(cookie), be(1, 0), lockBytes(lock)]).toString('hex'))
  assert.equal(argsOf(codec.nlmUnlock(1, cred, cookie, lock)).toString('hex'), Buffer.concat([opaque(cookie), lockBytes(lock)]).toString('hex'))
  assert.equal(argsOf(codec.nlmFreeAll(1, cred, 'host-a', 5)).toString('hex'), Buffer.concat([opaque(Buffer.from('host-a')), be(5)]).toString('hex'))
})

test('a 64-bit range to the end of the file goes out exactly', () => {
  const big = { ...lock, offset: (1n << 63n) - 1n, len: (1n << 64n) - 1n }
  const args = argsOf(codec.nlmUnlock(1, cred, Buffer.alloc(0), big))
  assert.is(args.readBigUInt64BE(args.length - 16), (1n << 63n) - 1n)
  assert.is(args.readBigUInt64BE(args.length - 8), (1n << 64n) - 1n)
})

test('TEST result DENIED carries the holder; GRANTED carries none', () => {
  const holder = Buffer.concat([be(1, 77), opaque(Buffer.from('their-owner')), u64(5n), u64(10n)])
  const denied = codec.decodeNlmTest(reply(3, Buffer.concat([opaque(Buffer.from('ck')), be(NLM4_DENIED), holder])))
  assert.equal(denied.res?.holder, { exclusive: true, svid: 77, oh: Buffer.from('their-owner'), offset: 5n, len: 10n })
  assert.is(denied.res?.cookie.toString(), 'ck')
  const granted = codec.decodeNlmTest(reply(3, Buffer.concat([opaque(Buffer.alloc(0)), be(NLM4_GRANTED)])))
  assert.is(granted.res?.stat, NLM4_GRANTED)
  assert.is(granted.res?.holder, undefined)
})

test('malformed NLM results are errors, not crashes: truncated holder, oversized cookie, bad bool', () => {
  const cut = reply(3, Buffer.concat([opaque(Buffer.from('ck')), be(NLM4_DENIED, 1)]))
  assert.throws(() => codec.decodeNlmTest(cut), (e: unknown) => e instanceof XdrDecodeError)
  const huge = reply(3, Buffer.concat([be(5000), Buffer.alloc(64)]))
  assert.throws(() => codec.decodeNlmRes(huge, NLMPROC4_LOCK), (e: unknown) => e instanceof XdrDecodeError)
  const badBool = reply(3, Buffer.concat([opaque(Buffer.alloc(0)), be(NLM4_DENIED, 7)]))
  assert.throws(() => codec.decodeNlmTest(badBool), (e: unknown) => e instanceof XdrDecodeError)
})

test('a GRANTED call decodes to the lock it grants (TEST args re-labelled as proc 5 round-trip)', () => {
  const rec = codec.nlmTest(0x1234, cred, Buffer.from('srv-cookie'), true, lock)
  const msg = Buffer.from(rec.subarray(4))
  msg.writeUInt32BE(5, 20)
  const call = codec.decodeCall(msg)
  assert.is(call.xid, 0x1234)
  assert.equal([call.prog, call.vers, call.proc, call.flavor], [100021, 4, 5, 1])
  assert.equal(call.granted, { cookie: Buffer.from('srv-cookie'), exclusive: true, lock })
  // Another procedure: the header only, the arguments are not ours to read.
  msg.writeUInt32BE(1, 20)
  assert.is(codec.decodeCall(msg).granted, undefined)
  // A reply is not a call; a call cut inside its lock is truncated.
  assert.throws(() => codec.decodeCall(reply(1, Buffer.alloc(0))), (e: unknown) => e instanceof XdrDecodeError)
  msg.writeUInt32BE(5, 20)
  assert.throws(() => codec.decodeCall(msg.subarray(0, msg.length - 9)), (e: unknown) => e instanceof XdrDecodeError)
})

test('the reply to a GRANTED: accepted, AUTH_NONE verifier, nlm4_res; PROC_UNAVAIL and PROG_MISMATCH bodies', () => {
  const ok = codec.reply(77, 0, { cookie: Buffer.from('c1'), stat: NLM4_GRANTED })
  assert.equal(ok.subarray(4).toString('hex'), Buffer.concat([be(77, 1, 0, 0, 0, 0), opaque(Buffer.from('c1')), be(0)]).toString('hex'))
  assert.equal(codec.reply(78, 3).subarray(4).toString('hex'), be(78, 1, 0, 0, 0, 3).toString('hex'))
  assert.equal(codec.reply(79, 2, undefined, { low: 4, high: 4 }).subarray(4).toString('hex'), be(79, 1, 0, 0, 0, 2, 4, 4).toString('hex'))
})

test('NSM: SM_MON { mon_name, my_id { my_name, prog, vers, proc }, priv[16] } and SM_NOTIFY { mon_name, state }', () => {
  const priv = Buffer.alloc(16, 0xab)
  const mon = codec.smMon(5, 'server-1', { name: '127.0.0.1', prog: 100021, vers: 4, proc: 16 }, priv)
  assert.equal([...be(5, 0, 2, 100024, 1, 2)], [...mon.subarray(4, 28)])
  const monArgs = mon.subarray(4 + 24 + 16)
  assert.equal(monArgs.toString('hex'), Buffer.concat([opaque(Buffer.from('server-1')), opaque(Buffer.from('127.0.0.1')), be(100021, 4, 16), priv]).toString('hex'))
  const notify = codec.smNotify(6, 'client-x', 3)
  assert.equal(notify.subarray(4 + 24 + 16).toString('hex'), Buffer.concat([opaque(Buffer.from('client-x')), be(3)]).toString('hex'))
  assert.equal(codec.decodeSm(reply(5, be(0, 11)), SM_MON).res, { result: 0, state: 11 })
  assert.throws(() => codec.smMon(5, 'x', { name: 'y', prog: 1, vers: 1, proc: 1 }, Buffer.alloc(8)), (e: unknown) => e instanceof XdrEncodeError)
})

test('portmapper SET { prog, vers, prot, port } and its bool', () => {
  const set = codec.pmapSet(8, 100021, 4, 6, 40123)
  assert.equal(set.subarray(4 + 24 + 16).toString('hex'), be(100021, 4, 6, 40123).toString('hex'))
  assert.is(codec.decodePmapBool(reply(8, be(1)), false).res, true)
  assert.is(codec.decodePmapBool(reply(8, be(0)), true).res, false)
  assert.throws(() => codec.decodePmapBool(reply(8, be(2)), false), (e: unknown) => e instanceof XdrDecodeError)
})

test('arguments over their XNFS bounds are refused before encoding', () => {
  assert.throws(() => codec.nlmLock(1, cred, Buffer.alloc(300), { block: false, exclusive: true, reclaim: false }, lock, 0), (e: unknown) => e instanceof XdrEncodeError)
  assert.throws(() => codec.nlmUnlock(1, cred, Buffer.alloc(0), { ...lock, fh: Buffer.alloc(65) }), (e: unknown) => e instanceof XdrEncodeError)
  assert.throws(() => codec.nlmUnlock(1, cred, Buffer.alloc(0), { ...lock, offset: -1n }), (e: unknown) => e instanceof XdrEncodeError)
})

test.run()

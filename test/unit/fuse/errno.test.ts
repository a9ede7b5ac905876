import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { toErrno, FsError } from '../../../src/fuse/errno.js'
import { Nfs3Error } from '../../../src/proto/nfs3/index.js'
import { RpcTimeoutError } from '../../../src/rpc/index.js'
import { XdrDecodeError, XdrEncodeError } from '../../../src/xdr/index.js'

test('typed errors map to their errno; ESTALE stays ESTALE; the unknown is EIO with a log line', () => {
  const lines: string[] = []
  const log = (l: string): void => { lines.push(l) }
  assert.is(toErrno(new Nfs3Error(70, 1), log), 116)
  assert.is(toErrno(new Nfs3Error(2, 3), log), 2)
  assert.is(toErrno(new Nfs3Error(69, 7), log), 122)
  assert.is(toErrno(new Nfs3Error(10004, 7), log), 95)
  assert.is(toErrno(new RpcTimeoutError(100003, 6, 20000), log), 110)
  assert.is(toErrno(new FsError(30, 'ro'), log), 30)
  assert.is(toErrno(new XdrEncodeError('name-too-long'), log), 36)
  assert.is(lines.length, 0)
  assert.is(toErrno(new XdrDecodeError('truncated'), log), 5)
  assert.is(lines.length, 1)
  assert.is(toErrno(new TypeError('boom'), log), 5)
  assert.is(toErrno(undefined, log), 5)
  assert.is(lines.length, 3)
})

test.run()

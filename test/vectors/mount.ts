// MOUNT v3 vectors, RFC 1813 §5.2.1 MNT and §5.2.3 UMNT; the AUTH_SYS credential layout is
// RFC 5531 appendix A.

import type { AuthSys } from '../../src/xdr/types.js'
import { wire, type CallVector, type ReplyVector } from './wire.js'

export const CLIENT_CRED: AuthSys = { stamp: 0x12345678, machine: 'client', uid: 1000, gid: 1000, gids: [1000, 27] }

export const MNT_CALL: CallVector<{ xid: number; cred: AuthSys; dirpath: string }> = {
  name: 'MNT /export with AUTH_SYS uid 1000 gid 1000 gids [1000, 27]',
  wire: wire(
    '80000058', // record mark: last fragment, 88 bytes
    '00000102', // xid
    '00000000', // msg_type CALL
    '00000002', // rpcvers 2
    '000186a5', // prog 100005 (MOUNT)
    '00000003', // vers 3
    '00000001', // proc MOUNTPROC3_MNT
    '00000001', // cred.flavor AUTH_SYS
    '00000024', // cred.body length 36
    '12345678', // stamp
    '00000006', // machinename length 6
    '636c69656e740000', // machinename "client" + 2 pad
    '000003e8', // uid 1000
    '000003e8', // gid 1000
    '00000002', // gids count 2
    '000003e8', // gids[0] 1000
    '0000001b', // gids[1] 27
    '00000000', // verf.flavor AUTH_NONE
    '00000000', // verf.body length 0
    '00000007', // dirpath length 7
    '2f6578706f727400', // dirpath "/export" + 1 pad
  ),
  expected: { xid: 0x102, cred: CLIENT_CRED, dirpath: '/export' },
  encode: (c, a) => c.mntMnt(a.xid, a.cred, a.dirpath),
}

export const UMNT_CALL: CallVector<{ xid: number; dirpath: string }> = {
  name: 'UMNT /x with AUTH_NONE',
  wire: wire(
    '80000030', // record mark: last fragment, 48 bytes
    '00000103', // xid
    '00000000', // msg_type CALL
    '00000002', // rpcvers 2
    '000186a5', // prog 100005 (MOUNT)
    '00000003', // vers 3
    '00000003', // proc MOUNTPROC3_UMNT
    '00000000', // cred.flavor AUTH_NONE
    '00000000', // cred.body length 0
    '00000000', // verf.flavor AUTH_NONE
    '00000000', // verf.body length 0
    '00000002', // dirpath length 2
    '2f780000', // dirpath "/x" + 2 pad
  ),
  expected: { xid: 0x103, dirpath: '/x' },
  encode: (c, a) => c.mntUmnt(a.xid, null, a.dirpath),
}

export const MNT_REPLY: ReplyVector = {
  name: 'MNT reply: MNT3_OK, 8-byte handle, flavors [AUTH_SYS, AUTH_NONE]',
  wire: wire(
    '00000102', // xid
    '00000001', // msg_type REPLY
    '00000000', // reply_stat MSG_ACCEPTED
    '00000000', // verf.flavor AUTH_NONE
    '00000000', // verf.body length 0
    '00000000', // accept_stat SUCCESS
    '00000000', // fhs_status MNT3_OK
    '00000008', // fhandle3 length 8
    '0100070001000000', // fhandle3 bytes
    '00000002', // auth_flavors count 2
    '00000001', // auth_flavors[0] AUTH_SYS
    '00000000', // auth_flavors[1] AUTH_NONE
  ),
  decode: 'decodeMnt',
  expected: {
    reply: { kind: 'success' },
    res: { status: 0, fh: Buffer.from('0100070001000000', 'hex'), authFlavors: [1, 0] },
  },
}

export const MNT_REPLY_ACCES: ReplyVector = {
  name: 'MNT reply: MNT3ERR_ACCES (void arm)',
  wire: wire(
    '00000104', // xid
    '00000001', // msg_type REPLY
    '00000000', // reply_stat MSG_ACCEPTED
    '00000000', // verf.flavor AUTH_NONE
    '00000000', // verf.body length 0
    '00000000', // accept_stat SUCCESS
    '0000000d', // fhs_status MNT3ERR_ACCES
  ),
  decode: 'decodeMnt',
  expected: { reply: { kind: 'success' }, res: { status: 13 } },
}

export const UMNT_REPLY: ReplyVector = {
  name: 'UMNT reply (void)',
  wire: wire(
    '00000103', // xid
    '00000001', // msg_type REPLY
    '00000000', // reply_stat MSG_ACCEPTED
    '00000000', // verf.flavor AUTH_NONE
    '00000000', // verf.body length 0
    '00000000', // accept_stat SUCCESS
  ),
  decode: 'decodeVoid',
  expected: { reply: { kind: 'success' }, res: undefined },
}

export const MOUNT_REPLY_VECTORS: ReplyVector[] = [MNT_REPLY, MNT_REPLY_ACCES, UMNT_REPLY]

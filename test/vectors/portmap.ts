// Portmapper v2 vectors, RFC 1833 §3 (PMAPPROC_GETPORT).

import { wire, type CallVector, type ReplyVector } from './wire.js'

export const GETPORT_CALL: CallVector<{ xid: number; prog: number; vers: number; prot: number }> = {
  name: 'GETPORT call for NFS v3 over TCP',
  wire: wire(
    '80000038', // record mark: last fragment, 56 bytes
    '0a0b0c0d', // xid
    '00000000', // msg_type CALL
    '00000002', // rpcvers 2
    '000186a0', // prog 100000 (portmapper)
    '00000002', // vers 2
    '00000003', // proc PMAPPROC_GETPORT
    '00000000', // cred.flavor AUTH_NONE
    '00000000', // cred.body length 0
    '00000000', // verf.flavor AUTH_NONE
    '00000000', // verf.body length 0
    '000186a3', // mapping.prog 100003 (NFS)
    '00000003', // mapping.vers 3
    '00000006', // mapping.prot IPPROTO_TCP
    '00000000', // mapping.port 0 (ignored by GETPORT)
  ),
  expected: { xid: 0x0a0b0c0d, prog: 100003, vers: 3, prot: 6 },
  encode: (c, a) => c.pmapGetport(a.xid, a.prog, a.vers, a.prot),
}

export const NULL_CALL: CallVector<{ xid: number; prog: number; vers: number }> = {
  name: 'NFS v3 NULL call (AUTH_NONE)',
  wire: wire(
    '80000028', // record mark: last fragment, 40 bytes
    '00000007', // xid
    '00000000', // msg_type CALL
    '00000002', // rpcvers 2
    '000186a3', // prog 100003 (NFS)
    '00000003', // vers 3
    '00000000', // proc NULL
    '00000000', // cred.flavor AUTH_NONE
    '00000000', // cred.body length 0
    '00000000', // verf.flavor AUTH_NONE
    '00000000', // verf.body length 0
  ),
  expected: { xid: 7, prog: 100003, vers: 3 },
  encode: (c, a) => c.rpcNull(a.xid, a.prog, a.vers),
}

export const GETPORT_REPLY: ReplyVector = {
  name: 'GETPORT reply: port 2049',
  wire: wire(
    '0a0b0c0d', // xid
    '00000001', // msg_type REPLY
    '00000000', // reply_stat MSG_ACCEPTED
    '00000000', // verf.flavor AUTH_NONE
    '00000000', // verf.body length 0
    '00000000', // accept_stat SUCCESS
    '00000801', // port 2049
  ),
  decode: 'decodeGetport',
  expected: { reply: { kind: 'success' }, res: 2049 },
}

export const PORTMAP_REPLY_VECTORS: ReplyVector[] = [GETPORT_REPLY]

// NFSv3 vectors, RFC 1813 §3.3 (arguments and results) with the §2.6 fattr3/sattr3/wcc_data layouts.

import type { Fattr3 } from '../../src/xdr/types.js'
import { wire, type CallVector, type ReplyVector } from './wire.js'

const ACCEPTED = [
  '00000001', // msg_type REPLY
  '00000000', // reply_stat MSG_ACCEPTED
  '00000000', // verf.flavor AUTH_NONE
  '00000000', // verf.body length 0
  '00000000', // accept_stat SUCCESS
].join('')

const NONE_CRED_VERF = [
  '00000000', // cred.flavor AUTH_NONE
  '00000000', // cred.body length 0
  '00000000', // verf.flavor AUTH_NONE
  '00000000', // verf.body length 0
].join('')

/** A regular file owned by uid 1000 gid 100 (the ids the identity tests map). */
export const FATTR_FILE = [
  '00000001', // type NF3REG
  '000081a4', // mode 0100644
  '00000001', // nlink 1
  '000003e8', // uid 1000
  '00000064', // gid 100
  '0000000000001000', // size 4096
  '0000000000002000', // used 8192
  '00000000', // rdev.specdata1
  '00000000', // rdev.specdata2
  '0000000100000002', // fsid 2^32 + 2
  '00000000000a1b2c', // fileid 662316
  '5f5e1000', // atime.seconds 1600000000
  '075bcd15', // atime.nseconds 123456789
  '5f5e1001', // mtime.seconds 1600000001
  '00000000', // mtime.nseconds 0
  '5f5e1002', // ctime.seconds 1600000002
  '3b9ac9ff', // ctime.nseconds 999999999
].join('')

export const FATTR_FILE_VALUE: Fattr3 = {
  type: 1,
  mode: 0o100644,
  nlink: 1,
  uid: 1000,
  gid: 100,
  size: 4096,
  used: 8192,
  rdevMajor: 0,
  rdevMinor: 0,
  fsid: 2 ** 32 + 2,
  fileid: 662316n,
  atime: { seconds: 1600000000, nseconds: 123456789 },
  mtime: { seconds: 1600000001, nseconds: 0 },
  ctime: { seconds: 1600000002, nseconds: 999999999 },
}

/** A directory owned by root. */
export const FATTR_DIR = [
  '00000002', // type NF3DIR
  '000041ed', // mode 040755
  '00000003', // nlink 3
  '00000000', // uid 0
  '00000000', // gid 0
  '0000000000001000', // size 4096
  '0000000000001000', // used 4096
  '00000000', // rdev.specdata1
  '00000000', // rdev.specdata2
  '0000000000000001', // fsid 1
  '0000000000000002', // fileid 2
  '60000000', // atime.seconds
  '00000001', // atime.nseconds
  '60000001', // mtime.seconds
  '00000002', // mtime.nseconds
  '60000002', // ctime.seconds
  '00000003', // ctime.nseconds
].join('')

export const FATTR_DIR_VALUE: Fattr3 = {
  type: 2,
  mode: 0o40755,
  nlink: 3,
  uid: 0,
  gid: 0,
  size: 4096,
  used: 4096,
  rdevMajor: 0,
  rdevMinor: 0,
  fsid: 1,
  fileid: 2n,
  atime: { seconds: 0x60000000, nseconds: 1 },
  mtime: { seconds: 0x60000001, nseconds: 2 },
  ctime: { seconds: 0x60000002, nseconds: 3 },
}

/** A character device with 64-bit fields above 2^53 (clamped, rounded or exact, see src/xdr/index.ts). */
export const FATTR_HUGE = [
  '00000004', // type NF3CHR
  '00002190', // mode 020620
  '00000001', // nlink 1
  'fffffffe', // uid 4294967294 (nobody)
  'fffffffe', // gid 4294967294
  'ffffffffffffffff', // size 2^64 - 1: clamped to 2^53 - 1
  '0020000000000000', // used 2^53: clamped to 2^53 - 1
  '00000088', // rdev.specdata1 136
  '00000001', // rdev.specdata2 1
  'ffffffffffffffff', // fsid 2^64 - 1: rounded to 2^64
  '0020000000000001', // fileid 2^53 + 1: exact (a bigint)
  '00000000', // atime.seconds
  '00000000', // atime.nseconds
  'ffffffff', // mtime.seconds 2^32 - 1
  'ffffffff', // mtime.nseconds 2^32 - 1 (out of range, passed through)
  '00000001', // ctime.seconds
  '00000002', // ctime.nseconds
].join('')

export const FATTR_HUGE_VALUE: Fattr3 = {
  type: 4,
  mode: 0o20620,
  nlink: 1,
  uid: 4294967294,
  gid: 4294967294,
  size: Number.MAX_SAFE_INTEGER,
  used: Number.MAX_SAFE_INTEGER,
  rdevMajor: 136,
  rdevMinor: 1,
  fsid: 2 ** 64,
  fileid: 2n ** 53n + 1n,
  atime: { seconds: 0, nseconds: 0 },
  mtime: { seconds: 4294967295, nseconds: 4294967295 },
  ctime: { seconds: 1, nseconds: 2 },
}

const DIR_FH = 'deadbeef'

// ------------------------------------------------------------------------------------------------
// Calls

export const GETATTR_CALL: CallVector<{ xid: number; fh: Buffer }> = {
  name: 'GETATTR call, AUTH_SYS root on host "h"',
  wire: wire(
    '80000050', // record mark: last fragment, 80 bytes
    '00000203', // xid
    '00000000', // msg_type CALL
    '00000002', // rpcvers 2
    '000186a3', // prog 100003 (NFS)
    '00000003', // vers 3
    '00000001', // proc NFSPROC3_GETATTR
    '00000001', // cred.flavor AUTH_SYS
    '00000018', // cred.body length 24
    '00000000', // stamp 0
    '00000001', // machinename length 1
    '68000000', // machinename "h" + 3 pad
    '00000000', // uid 0
    '00000000', // gid 0
    '00000000', // gids count 0
    '00000000', // verf.flavor AUTH_NONE
    '00000000', // verf.body length 0
    '0000000c', // object length 12
    '0102030405060708090a0b0c', // object (nfs_fh3)
  ),
  expected: { xid: 0x203, fh: Buffer.from('0102030405060708090a0b0c', 'hex') },
  encode: (c, a) => c.getattr(a.xid, { stamp: 0, machine: 'h', uid: 0, gid: 0, gids: [] }, a.fh),
}

export const LOOKUP_CALL: CallVector<{ xid: number; dir: Buffer; name: string }> = {
  name: 'LOOKUP file.txt, AUTH_NONE',
  wire: wire(
    '8000003c', // record mark: last fragment, 60 bytes
    '00000204', // xid
    '00000000', // msg_type CALL
    '00000002', // rpcvers 2
    '000186a3', // prog 100003 (NFS)
    '00000003', // vers 3
    '00000003', // proc NFSPROC3_LOOKUP
    NONE_CRED_VERF, // cred and verf AUTH_NONE
    '00000004', // what.dir length 4
    DIR_FH, // what.dir
    '00000008', // what.name length 8
    '66696c652e747874', // what.name "file.txt" (no pad)
  ),
  expected: { xid: 0x204, dir: Buffer.from(DIR_FH, 'hex'), name: 'file.txt' },
  encode: (c, a) => c.lookup(a.xid, null, a.dir, a.name),
}

export const SETATTR_CALL: CallVector<{ xid: number }> = {
  name: 'SETATTR mode, uid, size, atime=server, mtime=client, with ctime guard',
  wire: wire(
    '8000006c', // record mark: last fragment, 108 bytes
    '00000300', // xid
    '00000000', // msg_type CALL
    '00000002', // rpcvers 2
    '000186a3', // prog 100003 (NFS)
    '00000003', // vers 3
    '00000002', // proc NFSPROC3_SETATTR
    NONE_CRED_VERF, // cred and verf AUTH_NONE
    '00000004', // object length 4
    DIR_FH, // object
    '00000001', // set_mode TRUE
    '000001a4', // mode 0644
    '00000001', // set_uid TRUE
    '000003e8', // uid 1000
    '00000000', // set_gid FALSE
    '00000001', // set_size TRUE
    '0000000100000000', // size 2^32
    '00000001', // set_atime SET_TO_SERVER_TIME
    '00000002', // set_mtime SET_TO_CLIENT_TIME
    '5f5e1000', // mtime.seconds
    '00000005', // mtime.nseconds
    '00000001', // guard.check TRUE
    '5f5e1002', // guard.obj_ctime.seconds
    '3b9ac9ff', // guard.obj_ctime.nseconds
  ),
  expected: { xid: 0x300 },
  encode: (c, a) =>
    c.setattr(
      a.xid,
      null,
      Buffer.from(DIR_FH, 'hex'),
      { mode: 0o644, uid: 1000, size: 2 ** 32, atime: 'server', mtime: { seconds: 1600000000, nseconds: 5 } },
      { seconds: 1600000002, nseconds: 999999999 },
    ),
}

export const CREATE_EXCLUSIVE_CALL: CallVector<{ xid: number; verf: Buffer }> = {
  name: 'CREATE "new" EXCLUSIVE',
  wire: wire(
    '80000044', // record mark: last fragment, 68 bytes
    '00000301', // xid
    '00000000', // msg_type CALL
    '00000002', // rpcvers 2
    '000186a3', // prog 100003 (NFS)
    '00000003', // vers 3
    '00000008', // proc NFSPROC3_CREATE
    NONE_CRED_VERF, // cred and verf AUTH_NONE
    '00000004', // where.dir length 4
    DIR_FH, // where.dir
    '00000003', // where.name length 3
    '6e657700', // where.name "new" + 1 pad
    '00000002', // how.mode EXCLUSIVE
    '0102030405060708', // how.verf (createverf3)
  ),
  expected: { xid: 0x301, verf: Buffer.from('0102030405060708', 'hex') },
  encode: (c, a) => c.create(a.xid, null, Buffer.from(DIR_FH, 'hex'), 'new', { mode: 2, verf: a.verf }),
}

export const MKNOD_CHR_CALL: CallVector<{ xid: number }> = {
  name: 'MKNOD tty0 NF3CHR 4:64 mode 0620',
  wire: wire(
    '80000060', // record mark: last fragment, 96 bytes
    '00000302', // xid
    '00000000', // msg_type CALL
    '00000002', // rpcvers 2
    '000186a3', // prog 100003 (NFS)
    '00000003', // vers 3
    '0000000b', // proc NFSPROC3_MKNOD
    NONE_CRED_VERF, // cred and verf AUTH_NONE
    '00000004', // where.dir length 4
    DIR_FH, // where.dir
    '00000004', // where.name length 4
    '74747930', // where.name "tty0"
    '00000004', // what.type NF3CHR
    '00000001', // dev_attributes.set_mode TRUE
    '00000190', // mode 0620
    '00000000', // set_uid FALSE
    '00000000', // set_gid FALSE
    '00000000', // set_size FALSE
    '00000000', // set_atime DONT_CHANGE
    '00000000', // set_mtime DONT_CHANGE
    '00000004', // spec.specdata1 (major) 4
    '00000040', // spec.specdata2 (minor) 64
  ),
  expected: { xid: 0x302 },
  encode: (c, a) => c.mknod(a.xid, null, Buffer.from(DIR_FH, 'hex'), 'tty0', 4, { mode: 0o620 }, { major: 4, minor: 64 }),
}

export const READDIRPLUS_CALL: CallVector<{ xid: number; cookie: bigint }> = {
  name: 'READDIRPLUS from cookie 0xfedcba9876543210',
  wire: wire(
    '80000048', // record mark: last fragment, 72 bytes
    '00000303', // xid
    '00000000', // msg_type CALL
    '00000002', // rpcvers 2
    '000186a3', // prog 100003 (NFS)
    '00000003', // vers 3
    '00000011', // proc NFSPROC3_READDIRPLUS
    NONE_CRED_VERF, // cred and verf AUTH_NONE
    '00000004', // dir length 4
    DIR_FH, // dir
    'fedcba9876543210', // cookie
    'c0c1c2c3c4c5c6c7', // cookieverf
    '00001000', // dircount 4096
    '00008000', // maxcount 32768
  ),
  expected: { xid: 0x303, cookie: 0xfedcba9876543210n },
  encode: (c, a) => c.readdirplus(a.xid, null, Buffer.from(DIR_FH, 'hex'), a.cookie, Buffer.from('c0c1c2c3c4c5c6c7', 'hex'), 4096, 32768),
}

export const WRITE_HEADER_CALL: CallVector<{ xid: number; dataLength: number }> = {
  name: 'WRITE header for 5 bytes at 4 GiB, FILE_SYNC: the record mark covers data and pad',
  wire: wire(
    '8000004c', // record mark: last fragment, 76 bytes = 68 of header + 5 of data + 3 of pad
    '00000405', // xid
    '00000000', // msg_type CALL
    '00000002', // rpcvers 2
    '000186a3', // prog 100003 (NFS)
    '00000003', // vers 3
    '00000007', // proc NFSPROC3_WRITE
    NONE_CRED_VERF, // cred and verf AUTH_NONE
    '00000004', // file length 4
    DIR_FH, // file
    '0000000100000000', // offset 2^32
    '00000005', // count 5
    '00000002', // stable FILE_SYNC
    '00000005', // data length 5 (the 5 bytes and 3 of pad follow, sent by the caller)
  ),
  expected: { xid: 0x405, dataLength: 5 },
  encode: (c, a) => c.writeHeader(a.xid, null, Buffer.from(DIR_FH, 'hex'), 2 ** 32, 5, 2, a.dataLength),
}

export const NFS3_CALL_VECTORS = [
  GETATTR_CALL,
  LOOKUP_CALL,
  SETATTR_CALL,
  CREATE_EXCLUSIVE_CALL,
  MKNOD_CHR_CALL,
  READDIRPLUS_CALL,
  WRITE_HEADER_CALL,
] as CallVector<unknown>[]

// ------------------------------------------------------------------------------------------------
// Replies

export const GETATTR_REPLY: ReplyVector = {
  name: 'GETATTR reply: NFS3_OK with a full fattr3',
  wire: wire(
    '00000203', // xid
    ACCEPTED, // REPLY, MSG_ACCEPTED, AUTH_NONE verifier, SUCCESS
    '00000000', // status NFS3_OK
    FATTR_FILE, // obj_attributes
  ),
  decode: 'decodeGetattr',
  expected: { reply: { kind: 'success' }, res: { status: 0, attr: FATTR_FILE_VALUE } },
}

export const GETATTR_REPLY_STALE: ReplyVector = {
  name: 'GETATTR reply: NFS3ERR_STALE (void arm)',
  wire: wire(
    '00000205', // xid
    ACCEPTED, // REPLY, MSG_ACCEPTED, AUTH_NONE verifier, SUCCESS
    '00000046', // status NFS3ERR_STALE
  ),
  decode: 'decodeGetattr',
  expected: { reply: { kind: 'success' }, res: { status: 70 } },
}

export const LOOKUP_REPLY: ReplyVector = {
  name: 'LOOKUP reply: handle, object attributes, no dir attributes',
  wire: wire(
    '00000204', // xid
    ACCEPTED, // REPLY, MSG_ACCEPTED, AUTH_NONE verifier, SUCCESS
    '00000000', // status NFS3_OK
    '00000008', // object length 8
    '0011223344556677', // object (nfs_fh3)
    '00000001', // obj_attributes: attributes_follow TRUE
    FATTR_FILE, // obj_attributes.attributes
    '00000000', // dir_attributes: attributes_follow FALSE
  ),
  decode: 'decodeLookup',
  expected: {
    reply: { kind: 'success' },
    res: { status: 0, fh: Buffer.from('0011223344556677', 'hex'), attr: FATTR_FILE_VALUE },
  },
}

export const LOOKUP_REPLY_NOENT: ReplyVector = {
  name: 'LOOKUP reply: NFS3ERR_NOENT with dir attributes in the failure arm',
  wire: wire(
    '00000206', // xid
    ACCEPTED, // REPLY, MSG_ACCEPTED, AUTH_NONE verifier, SUCCESS
    '00000002', // status NFS3ERR_NOENT
    '00000001', // resfail.dir_attributes: attributes_follow TRUE
    FATTR_DIR, // resfail.dir_attributes.attributes
  ),
  decode: 'decodeLookup',
  expected: { reply: { kind: 'success' }, res: { status: 2 } },
}

export const READ_REPLY: ReplyVector = {
  name: 'READ reply: 5 bytes of data and 3 bytes of pad, eof',
  wire: wire(
    '00000207', // xid
    ACCEPTED, // REPLY, MSG_ACCEPTED, AUTH_NONE verifier, SUCCESS
    '00000000', // status NFS3_OK
    '00000000', // file_attributes: attributes_follow FALSE
    '00000005', // count 5
    '00000001', // eof TRUE
    '00000005', // data length 5
    '68656c6c6f000000', // data "hello" + 3 pad
  ),
  decode: 'decodeRead',
  expected: { reply: { kind: 'success' }, res: { status: 0, count: 5, eof: true, data: Buffer.from('hello') } },
}

export const READ_REPLY_COUNT_MISMATCH: ReplyVector = {
  name: 'READ reply: count 7 but data<> of 2 bytes (the opaque length wins), huge attributes',
  wire: wire(
    '00000208', // xid
    ACCEPTED, // REPLY, MSG_ACCEPTED, AUTH_NONE verifier, SUCCESS
    '00000000', // status NFS3_OK
    '00000001', // file_attributes: attributes_follow TRUE
    FATTR_HUGE, // file_attributes.attributes
    '00000007', // count 7 (disagrees with the data length)
    '00000000', // eof FALSE
    '00000002', // data length 2
    '68690000', // data "hi" + 2 pad
  ),
  decode: 'decodeRead',
  expected: {
    reply: { kind: 'success' },
    res: { status: 0, attr: FATTR_HUGE_VALUE, count: 7, eof: false, data: Buffer.from('hi') },
  },
}

export const WRITE_REPLY: ReplyVector = {
  name: 'WRITE reply: wcc before and after, count 5, FILE_SYNC, verifier',
  wire: wire(
    '00000405', // xid
    ACCEPTED, // REPLY, MSG_ACCEPTED, AUTH_NONE verifier, SUCCESS
    '00000000', // status NFS3_OK
    '00000001', // file_wcc.before: attributes_follow TRUE
    '0000000000001000', // before.size 4096
    '5f5e1000', // before.mtime.seconds
    '00000000', // before.mtime.nseconds
    '5f5e1000', // before.ctime.seconds
    '00000000', // before.ctime.nseconds
    '00000001', // file_wcc.after: attributes_follow TRUE
    FATTR_FILE, // file_wcc.after.attributes
    '00000005', // count 5
    '00000002', // committed FILE_SYNC
    'ffeeddccbbaa9988', // verf (writeverf3)
  ),
  decode: 'decodeWrite',
  expected: {
    reply: { kind: 'success' },
    res: { status: 0, after: FATTR_FILE_VALUE, count: 5, committed: 2, verf: 0xffeeddccbbaa9988n },
  },
}

export const READDIRPLUS_REPLY: ReplyVector = {
  name: 'READDIRPLUS reply: three entries (full, bare, UTF-8 name with root-owned device), eof',
  wire: wire(
    '00000303', // xid
    ACCEPTED, // REPLY, MSG_ACCEPTED, AUTH_NONE verifier, SUCCESS
    '00000000', // status NFS3_OK
    '00000001', // dir_attributes: attributes_follow TRUE
    FATTR_DIR, // dir_attributes.attributes
    '0102030405060708', // cookieverf
    '00000001', // entries: value_follows TRUE
    '0000000000000002', // entry[0].fileid 2
    '00000001', // entry[0].name length 1
    '2e000000', // entry[0].name "." + 3 pad
    '0000000000000001', // entry[0].cookie 1
    '00000001', // entry[0].name_attributes: attributes_follow TRUE
    FATTR_FILE, // entry[0].name_attributes.attributes
    '00000001', // entry[0].name_handle: handle_follows TRUE
    '00000004', // entry[0].name_handle length 4
    'aabbccdd', // entry[0].name_handle
    '00000001', // nextentry: value_follows TRUE
    'fffffffffffffffe', // entry[1].fileid 2^64 - 2: exact, unsigned
    '00000005', // entry[1].name length 5
    '612e747874000000', // entry[1].name "a.txt" + 3 pad
    'ffffffffffffffff', // entry[1].cookie 2^64 - 1 (exact as a bigint)
    '00000000', // entry[1].name_attributes: attributes_follow FALSE
    '00000000', // entry[1].name_handle: handle_follows FALSE
    '00000001', // nextentry: value_follows TRUE
    '0000000000000003', // entry[2].fileid 3
    '00000005', // entry[2].name length 5
    'c3a92e6d64000000', // entry[2].name "é.md" (UTF-8) + 3 pad
    '0000000000000003', // entry[2].cookie 3
    '00000001', // entry[2].name_attributes: attributes_follow TRUE
    FATTR_HUGE, // entry[2].name_attributes.attributes
    '00000001', // entry[2].name_handle: handle_follows TRUE
    '00000008', // entry[2].name_handle length 8
    '1122334455667788', // entry[2].name_handle
    '00000000', // nextentry: value_follows FALSE
    '00000001', // eof TRUE
  ),
  decode: 'decodeReaddirplus',
  expected: {
    reply: { kind: 'success' },
    res: {
      status: 0,
      dirAttr: FATTR_DIR_VALUE,
      cookieverf: Buffer.from('0102030405060708', 'hex'),
      entries: [
        { fileid: 2n, name: '.', cookie: 1n, attr: FATTR_FILE_VALUE, fh: Buffer.from('aabbccdd', 'hex') },
        { fileid: 0xfffffffffffffffen, name: 'a.txt', cookie: 0xffffffffffffffffn },
        { fileid: 3n, name: 'é.md', cookie: 3n, attr: FATTR_HUGE_VALUE, fh: Buffer.from('1122334455667788', 'hex') },
      ],
      eof: true,
    },
  },
}

export const NFS3_REPLY_VECTORS: ReplyVector[] = [
  GETATTR_REPLY,
  GETATTR_REPLY_STALE,
  LOOKUP_REPLY,
  LOOKUP_REPLY_NOENT,
  READ_REPLY,
  READ_REPLY_COUNT_MISMATCH,
  WRITE_REPLY,
  READDIRPLUS_REPLY,
]

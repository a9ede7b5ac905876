// Hand-built FUSE wire bytes for the kernel front-end tests: each struct is written field by field
// in fuse.h order (independently of src/fuse/kernel/codec.ts), so a test compares the codec with
// the header file, not with itself.
export type Field =
  | ['u16', number]
  | ['u32', number]
  | ['i32', number]
  | ['u64', number | bigint]
  | ['i64', number | bigint]
  | ['str', string] // bytes, no NUL
  | ['pad', number] // zero bytes

export function bytes(fields: Field[]): Buffer {
  const parts = fields.map(([kind, v]): Buffer => {
    switch (kind) {
      case 'u16': { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b }
      case 'u32': { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b }
      case 'i32': { const b = Buffer.alloc(4); b.writeInt32LE(v); return b }
      case 'u64': { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b }
      case 'i64': { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(v)); return b }
      case 'str': return Buffer.from(v, 'utf8')
      case 'pad': return Buffer.alloc(v)
    }
  })
  return Buffer.concat(parts)
}

/** A NUL-terminated name. */
export const name = (s: string): Field[] => [['str', s], ['pad', 1]]

/** fuse_in_header + ARGS, len filled in. */
export function request(opcode: number, unique: number, nodeid: number, args: Field[], who = { uid: 2000, gid: 3000, pid: 77 }): Buffer {
  const body = bytes(args)
  return Buffer.concat([
    bytes([['u32', 40 + body.length], ['u32', opcode], ['u64', unique], ['u64', nodeid], ['u32', who.uid], ['u32', who.gid], ['u32', who.pid], ['u16', 0], ['u16', 0]]),
    body,
  ])
}

/** fuse_out_header. */
export const outHeader = (len: number, error: number, unique: number): Field[] => [['u32', len], ['i32', error], ['u64', unique]]

/** fuse_attr of the test stat below. */
export const t1 = { seconds: 1_700_000_000, nseconds: 123_456_789 }
export const t2 = { seconds: 1_600_000_000, nseconds: 5 }
export const t3 = { seconds: 1_500_000_000, nseconds: 999_999_999 }
export const stat = {
  mode: 0o100644, uid: 1234, gid: 5678, size: 2 ** 40 + 3, dev: 0, nlink: 2, ino: 2n ** 63n + 5n, rdev: 0x0801,
  blksize: 4096, blocks: 2 ** 31 + 7, atime: t1, mtime: t2, ctime: t3,
}
export const attrFields: Field[] = [
  ['u64', stat.ino], ['u64', stat.size], ['u64', stat.blocks],
  ['u64', t1.seconds], ['u64', t2.seconds], ['u64', t3.seconds],
  ['u32', t1.nseconds], ['u32', t2.nseconds], ['u32', t3.nseconds],
  ['u32', stat.mode], ['u32', stat.nlink], ['u32', stat.uid], ['u32', stat.gid], ['u32', stat.rdev], ['u32', stat.blksize],
  ['u32', 0], // flags
]

// Decoded shapes of the ONC RPC, portmapper, MOUNT v3 and NFSv3 messages mapnfs uses.
// Names follow the .x files of RFC 1813 / RFC 5531 / RFC 1833. These are the values the
// WASM core (assembly/) hands out through XdrCodec; nothing here knows about sockets or FUSE.

/** AUTH_SYS credential body, RFC 5531 appendix A. gids: at most 16, never an implicit 0. */
export interface AuthSys {
  stamp: number
  machine: string
  uid: number
  gid: number
  gids: readonly number[]
}

/**
 * Inbound identity rewrite applied by the decoder to every fattr3 it returns:
 * uid === serverUid is shown as localUid, gid === serverGid as localGid; other ids pass.
 */
export interface InboundMap {
  serverUid: number
  serverGid: number
  localUid: number
  localGid: number
}

export interface NfsTime3 {
  seconds: number
  nseconds: number
}

/** RFC 1813 §2.6 ftype3 */
export const NF3REG = 1
export const NF3DIR = 2
export const NF3BLK = 3
export const NF3CHR = 4
export const NF3LNK = 5
export const NF3SOCK = 6
export const NF3FIFO = 7

/**
 * RFC 1813 §2.6 fattr3. fileid is an exact bigint (it becomes st_ino); the other 64-bit fields are
 * numbers, exact below 2^53 (see src/xdr/index.ts for the rule above).
 */
export interface Fattr3 {
  type: number
  mode: number
  nlink: number
  uid: number
  gid: number
  size: number
  used: number
  rdevMajor: number
  rdevMinor: number
  fsid: number
  fileid: bigint
  atime: NfsTime3
  mtime: NfsTime3
  ctime: NfsTime3
}

/** RFC 1813 §2.6 time_how */
export const DONT_CHANGE = 0
export const SET_TO_SERVER_TIME = 1
export const SET_TO_CLIENT_TIME = 2

/** RFC 1813 §2.6 sattr3; an absent field is "don't set". */
export interface Sattr3 {
  mode?: number
  uid?: number
  gid?: number
  size?: number
  /** SET_TO_SERVER_TIME when 'server', SET_TO_CLIENT_TIME with a time, DONT_CHANGE when absent */
  atime?: NfsTime3 | 'server'
  mtime?: NfsTime3 | 'server'
}

/** RFC 1813 §3.3.8 createmode3 */
export const UNCHECKED = 0
export const GUARDED = 1
export const EXCLUSIVE = 2

export type CreateHow3 =
  | { mode: typeof UNCHECKED | typeof GUARDED; attrs: Sattr3 }
  | { mode: typeof EXCLUSIVE; verf: Buffer }

/** RFC 1813 §3.3.7 stable_how */
export const UNSTABLE = 0
export const DATA_SYNC = 1
export const FILE_SYNC = 2

/** RPC-level outcome of a reply (RFC 5531 §9). Only 'success' carries procedure results. */
export type ReplyStatus =
  | { kind: 'success' }
  | { kind: 'prog_unavail' }
  | { kind: 'prog_mismatch'; low: number; high: number }
  | { kind: 'proc_unavail' }
  | { kind: 'garbage_args' }
  | { kind: 'system_err' }
  | { kind: 'rpc_mismatch'; low: number; high: number }
  | { kind: 'auth_error'; authStat: number }

/** Procedure results. Every NFS result carries `status` (nfsstat3); on status !== 0 only `status` is set. */
export interface GetattrRes { status: number; attr?: Fattr3 }
export interface SetattrRes { status: number; after?: Fattr3 }
export interface LookupRes { status: number; fh?: Buffer; attr?: Fattr3; dirAttr?: Fattr3 }
export interface AccessRes { status: number; attr?: Fattr3; access?: number }
export interface ReadlinkRes { status: number; attr?: Fattr3; target?: Buffer }
/** data is a view into the record handed to decode (no copy); its length is the opaque's length. */
export interface ReadRes { status: number; attr?: Fattr3; count?: number; eof?: boolean; data?: Buffer }
/** verf: the 8-byte write verifier as a bigint (compare with ===). */
export interface WriteRes { status: number; after?: Fattr3; count?: number; committed?: number; verf?: bigint }
/** CREATE, MKDIR, SYMLINK, MKNOD */
export interface CreateRes { status: number; fh?: Buffer; attr?: Fattr3; dirAfter?: Fattr3 }
/** REMOVE, RMDIR */
export interface RemoveRes { status: number; dirAfter?: Fattr3 }
export interface RenameRes { status: number }
export interface LinkRes { status: number; attr?: Fattr3 }
export interface Entryplus3 {
  fileid: bigint
  name: string
  cookie: bigint
  attr?: Fattr3
  fh?: Buffer
}
export interface ReaddirplusRes {
  status: number
  dirAttr?: Fattr3
  cookieverf?: Buffer
  entries?: Entryplus3[]
  eof?: boolean
}
export interface FsstatRes {
  status: number
  attr?: Fattr3
  tbytes?: number
  fbytes?: number
  abytes?: number
  tfiles?: number
  ffiles?: number
  afiles?: number
  invarsec?: number
}
export interface FsinfoRes {
  status: number
  attr?: Fattr3
  rtmax?: number
  rtpref?: number
  rtmult?: number
  wtmax?: number
  wtpref?: number
  wtmult?: number
  dtpref?: number
  maxfilesize?: number
  timeDelta?: NfsTime3
  properties?: number
}
export interface PathconfRes {
  status: number
  attr?: Fattr3
  linkmax?: number
  nameMax?: number
  noTrunc?: boolean
  chownRestricted?: boolean
  caseInsensitive?: boolean
  casePreserving?: boolean
}
export interface CommitRes { status: number; verf?: bigint }
/** MOUNT v3 MNT: status is mountstat3. */
export interface MntRes { status: number; fh?: Buffer; authFlavors?: number[] }

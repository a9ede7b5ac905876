// Protocol constants of ONC RPC v2, portmapper v2, MOUNT v3 and NFSv3, named as in the RFC .x
// files with explicit values (never auto-numbered: a reordering must not silently renumber the wire).
// The WASM core in assembly/ keeps its own copy of the few it needs; both are checked against
// each other by the vectors in test/vectors/.

// --- ONC RPC v2, RFC 5531 §9 (msg_type, reply_stat, accept_stat, reject_stat) and §8.2 (auth_stat) ---
export const RPC_VERS = 2
export const CALL = 0
export const REPLY = 1
export const MSG_ACCEPTED = 0
export const MSG_DENIED = 1
export const SUCCESS = 0
export const PROG_UNAVAIL = 1
export const PROG_MISMATCH = 2
export const PROC_UNAVAIL = 3
export const GARBAGE_ARGS = 4
export const SYSTEM_ERR = 5
export const RPC_MISMATCH = 0
export const AUTH_ERROR = 1
export const AUTH_OK = 0
export const AUTH_BADCRED = 1
export const AUTH_REJECTEDCRED = 2
export const AUTH_BADVERF = 3
export const AUTH_REJECTEDVERF = 4
export const AUTH_TOOWEAK = 5
export const AUTH_INVALIDRESP = 6
export const AUTH_FAILED = 7

// --- Authentication flavors, RFC 5531 §8.2 and appendix A ---
export const AUTH_NONE = 0
export const AUTH_SYS = 1
/** RFC 5531 §8.2: opaque_auth body<400>. */
export const MAX_AUTH_BYTES = 400
/** RFC 5531 appendix A: gids<16>. */
export const AUTH_SYS_MAX_GIDS = 16
/** RFC 5531 appendix A: machinename<255>. */
export const AUTH_SYS_MAX_MACHINENAME = 255

// --- Portmapper v2, RFC 1833 §3 ---
export const PMAP_PROG = 100000
export const PMAP_VERS = 2
export const PMAPPROC_NULL = 0
export const PMAPPROC_GETPORT = 3
export const IPPROTO_TCP = 6
export const IPPROTO_UDP = 17
export const PMAP_PORT = 111

// --- MOUNT v3, RFC 1813 §5.1 / §5.2 ---
export const MOUNT_PROG = 100005
export const MOUNT_V3 = 3
export const MOUNTPROC3_NULL = 0
export const MOUNTPROC3_MNT = 1
export const MOUNTPROC3_DUMP = 2
export const MOUNTPROC3_UMNT = 3
export const MOUNTPROC3_UMNTALL = 4
export const MOUNTPROC3_EXPORT = 5
/** RFC 1813 §5.1.1: dirpath<MNTPATHLEN>. */
export const MNTPATHLEN = 1024
/** RFC 1813 §5.1.2: name<MNTNAMLEN>. */
export const MNTNAMLEN = 255
/** RFC 1813 §5.1.5 mountstat3 */
export const MNT3_OK = 0
export const MNT3ERR_PERM = 1
export const MNT3ERR_NOENT = 2
export const MNT3ERR_IO = 5
export const MNT3ERR_ACCES = 13
export const MNT3ERR_NOTDIR = 20
export const MNT3ERR_INVAL = 22
export const MNT3ERR_NAMETOOLONG = 63
export const MNT3ERR_NOTSUPP = 10004
export const MNT3ERR_SERVERFAULT = 10006

// --- NFSv3, RFC 1813 §3 ---
export const NFS_PROG = 100003
export const NFS_V3 = 3
export const NFS_PORT = 2049
/** RFC 1813 §2.4: NFS3_FHSIZE, the bound of nfs_fh3 = opaque<64>. */
export const NFS3_FHSIZE = 64
/** RFC 1813 §2.4: cookieverf3, createverf3 and writeverf3 are opaque[8]. */
export const NFS3_COOKIEVERFSIZE = 8
export const NFS3_CREATEVERFSIZE = 8
export const NFS3_WRITEVERFSIZE = 8
/**
 * filename3/nfspath3 are unbounded strings in RFC 1813 §2.5; 4096 is this client's bound (PATH_MAX on
 * Linux), applied both to what it sends and to what it accepts from a server.
 */
export const MAX_NAME_BYTES = 4096

/** RFC 1813 §3 procedure numbers */
export const NFSPROC3_NULL = 0
export const NFSPROC3_GETATTR = 1
export const NFSPROC3_SETATTR = 2
export const NFSPROC3_LOOKUP = 3
export const NFSPROC3_ACCESS = 4
export const NFSPROC3_READLINK = 5
export const NFSPROC3_READ = 6
export const NFSPROC3_WRITE = 7
export const NFSPROC3_CREATE = 8
export const NFSPROC3_MKDIR = 9
export const NFSPROC3_SYMLINK = 10
export const NFSPROC3_MKNOD = 11
export const NFSPROC3_REMOVE = 12
export const NFSPROC3_RMDIR = 13
export const NFSPROC3_RENAME = 14
export const NFSPROC3_LINK = 15
export const NFSPROC3_READDIR = 16
export const NFSPROC3_READDIRPLUS = 17
export const NFSPROC3_FSSTAT = 18
export const NFSPROC3_FSINFO = 19
export const NFSPROC3_PATHCONF = 20
export const NFSPROC3_COMMIT = 21

/** RFC 1813 §2.6 nfsstat3 */
export const NFS3_OK = 0
export const NFS3ERR_PERM = 1
export const NFS3ERR_NOENT = 2
export const NFS3ERR_IO = 5
export const NFS3ERR_NXIO = 6
export const NFS3ERR_ACCES = 13
export const NFS3ERR_EXIST = 17
export const NFS3ERR_XDEV = 18
export const NFS3ERR_NODEV = 19
export const NFS3ERR_NOTDIR = 20
export const NFS3ERR_ISDIR = 21
export const NFS3ERR_INVAL = 22
export const NFS3ERR_FBIG = 27
export const NFS3ERR_NOSPC = 28
export const NFS3ERR_ROFS = 30
export const NFS3ERR_MLINK = 31
export const NFS3ERR_NAMETOOLONG = 63
export const NFS3ERR_NOTEMPTY = 66
export const NFS3ERR_DQUOT = 69
export const NFS3ERR_STALE = 70
export const NFS3ERR_REMOTE = 71
export const NFS3ERR_BADHANDLE = 10001
export const NFS3ERR_NOT_SYNC = 10002
export const NFS3ERR_BAD_COOKIE = 10003
export const NFS3ERR_NOTSUPP = 10004
export const NFS3ERR_TOOSMALL = 10005
export const NFS3ERR_SERVERFAULT = 10006
export const NFS3ERR_BADTYPE = 10007
export const NFS3ERR_JUKEBOX = 10008

/** RFC 1813 §3.3.4 ACCESS bits */
export const ACCESS3_READ = 0x0001
export const ACCESS3_LOOKUP = 0x0002
export const ACCESS3_MODIFY = 0x0004
export const ACCESS3_EXTEND = 0x0008
export const ACCESS3_DELETE = 0x0010
export const ACCESS3_EXECUTE = 0x0020

/** RFC 1813 §3.3.19 FSINFO properties */
export const FSF3_LINK = 0x0001
export const FSF3_SYMLINK = 0x0002
export const FSF3_HOMOGENEOUS = 0x0008
export const FSF3_CANSETTIME = 0x0010

/** RFC 1813 §2.6 ftype3 (also exported from types.ts) and §3.3.11 mknoddata3 use the same values. */
export {
  NF3REG,
  NF3DIR,
  NF3BLK,
  NF3CHR,
  NF3LNK,
  NF3SOCK,
  NF3FIFO,
  UNCHECKED,
  GUARDED,
  EXCLUSIVE,
  UNSTABLE,
  DATA_SYNC,
  FILE_SYNC,
  DONT_CHANGE,
  SET_TO_SERVER_TIME,
  SET_TO_CLIENT_TIME,
} from './types.js'

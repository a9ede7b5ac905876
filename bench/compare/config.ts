// What bench/compare.ts measures: the columns (where a load runs), the rows (the loads), their
// sizes for a full and a --quick run, and the issue 7 targets each mapnfs cell is marked against.
//
// Two FUSE front ends run side by side: libfuse2 (fuse-native over libfuse 2: 'ceiling',
// 'inline', 'pooled') and kernel (mapnfs speaking the kernel protocol itself, src/fuse/kernel:
// 'kceiling', 'kinline', 'kpooled'). Each mapnfs column is measured against the ceiling of its own
// front end (CEILING_OF), and each kernel column against its libfuse2 twin (KERNEL_VS_LIBFUSE2).

export type ColumnKey = 'export' | 'ceiling' | 'kceiling' | 'engine' | 'enginePooled' | 'nfscp' | 'inline' | 'pooled' | 'kinline' | 'kpooled'
export type Frontend = 'libfuse2' | 'kernel'
export type LoadKey = 'seqWrite' | 'seqRead' | 'rand16' | 'randAio' | 'stat' | 'create' | 'ls'
export type Phase = 'main' | 'delay'

export const COLUMNS: Record<ColumnKey, string> = {
  export: 'export dir',
  ceiling: 'FUSE ceiling',
  kceiling: 'FUSE ceiling, kernel protocol',
  engine: 'engine inline',
  enginePooled: 'engine pooled',
  nfscp: 'nfs-cp',
  inline: 'mapnfs libfuse2 inline',
  pooled: 'mapnfs libfuse2 pooled',
  kinline: 'mapnfs kernel inline',
  kpooled: 'mapnfs kernel pooled',
}

/** Columns in their first-repetition order; odd repetitions run them in reverse. */
export const MAIN_COLUMNS: ColumnKey[] = ['export', 'ceiling', 'kceiling', 'engine', 'enginePooled', 'nfscp', 'inline', 'pooled', 'kinline', 'kpooled']
/** Through the delay proxy: only what talks NFS. */
export const DELAY_COLUMNS: ColumnKey[] = ['engine', 'enginePooled', 'nfscp', 'inline', 'pooled', 'kinline', 'kpooled']

/** The CLI mounts (the columns the targets are about), per front end: [inline, pooled]. */
export const MAPNFS_COLUMNS: Record<Frontend, [ColumnKey, ColumnKey]> = { libfuse2: ['inline', 'pooled'], kernel: ['kinline', 'kpooled'] }
/** The FUSE ceiling of each front end. */
export const CEILINGS: Record<Frontend, ColumnKey> = { libfuse2: 'ceiling', kernel: 'kceiling' }
export const isMapnfs = (col: ColumnKey): boolean => col === 'inline' || col === 'pooled' || col === 'kinline' || col === 'kpooled'
/** The ceiling a mapnfs column is measured against: the one of its own front end. */
export const CEILING_OF = (col: ColumnKey): ColumnKey => (col === 'kinline' || col === 'kpooled' ? 'kceiling' : 'ceiling')
/**
 * Each kernel-front-end column and its libfuse2 twin. The project's rule: fuse-native goes only
 * once the kernel front end beats it (ratio >= 1) on every load.
 */
export const KERNEL_VS_LIBFUSE2: [ColumnKey, ColumnKey][] = [['kinline', 'inline'], ['kpooled', 'pooled'], ['kceiling', 'ceiling']]

export interface LoadSpec {
  label: string
  unit: string
  /** The columns it runs on ('-' elsewhere). */
  on: ColumnKey[]
}

const ALL: ColumnKey[] = ['export', 'ceiling', 'kceiling', 'engine', 'enginePooled', 'inline', 'pooled', 'kinline', 'kpooled']

export const LOADS: Record<LoadKey, LoadSpec> = {
  seqWrite: { label: 'seq write 1 MiB, buffered, fsync at end', unit: 'MiB/s', on: [...ALL, 'nfscp'] },
  seqRead: { label: 'seq read 1 MiB, cold client, warm server', unit: 'MiB/s', on: [...ALL, 'nfscp'] },
  rand16: { label: '4 KiB rand read O_DIRECT, 16 threads', unit: 'IOPS', on: ALL },
  randAio: { label: '4 KiB rand read O_DIRECT, libaio 4 x 16', unit: 'IOPS', on: ALL },
  stat: { label: 'stat, caching off', unit: 'stats/s', on: ALL },
  create: { label: 'create (O_CREAT|O_EXCL + close), caching off', unit: 'creates/s', on: ALL },
  ls: { label: 'ls -l of 2000 entries', unit: 'entries/s', on: ALL },
}
export const LOAD_ORDER: LoadKey[] = ['seqWrite', 'seqRead', 'rand16', 'randAio', 'stat', 'create', 'ls']
export const DELAY_LOADS: LoadKey[] = ['seqWrite', 'seqRead']

/** The local application user every load runs as, and the mount's server-side identity (uid=,gid=). */
export const APP_ID = 2000
export const SERVER_ID = 1234
/**
 * Worker threads of the pooled engine and of `-o workers=N` (both front ends): one per core of this 2-core machine
 * (the main thread keeps the FUSE callbacks; more workers than cores would only take turns).
 */
export const POOL_WORKERS = 2
/** Added by the delay proxy in each direction (issue 7: "5 ms added each way"). */
export const DELAY_MS = 5
/**
 * READs/WRITEs the no-FUSE engine keeps in flight for the sequential loads, of rsize/wsize each.
 * Today's mount has one call in flight per sequential reader or writer (FUSE hands over one 128
 * KiB request at a time); issue 7 asks readahead and write-behind for "several" rsize calls in
 * flight. 4: libnfs reached its plateau against this server at 4 in flight (test-servers.md), so
 * more would not raise this ceiling on loopback, and through the 5 ms proxy 4 MiB per 10 ms round
 * trip (400 MiB/s) is above anything FUSE can pass here.
 */
export const ENGINE_SEQ_IN_FLIGHT = 4
/** READs in flight of the engine's random-read loads: what each fio load asks for. */
export const ENGINE_RAND_IN_FLIGHT: Partial<Record<LoadKey, number>> = { rand16: 16, randAio: 64 }

export interface Params {
  /** Repetitions of the main loads (median shown). */
  reps: number
  /** Size of the sequential files (seq write, seq read, and the file random reads hit). */
  seqSize: number
  randSeconds: number
  statSeconds: number
  creates: number
  lsEntries: number
  delayReps: number
  /** Cap of each delayed write or read (fio runtime; the engine stops issuing calls). */
  delaySeconds: number
  /** The delayed write writes this much unless the cap stops it first (issue 7: 1 GiB). */
  delayWriteSize: number
  /** The file the delayed reads read. */
  delayReadSize: number
  /** nfs-cp copies whole files: its delayed write copies a file of this size. */
  delayCpSize: number
}

const MiB = 1024 * 1024

export const FULL: Params = {
  reps: 3,
  seqSize: 512 * MiB,
  randSeconds: 3,
  statSeconds: 3,
  creates: 1000,
  lsEntries: 2000,
  delayReps: 2,
  delaySeconds: 6,
  delayWriteSize: 1024 * MiB,
  delayReadSize: 128 * MiB,
  delayCpSize: 64 * MiB,
}

export const QUICK: Params = {
  reps: 1,
  seqSize: 256 * MiB,
  randSeconds: 2,
  statSeconds: 2,
  creates: 500,
  lsEntries: 2000,
  delayReps: 1,
  delaySeconds: 3,
  delayWriteSize: 1024 * MiB,
  delayReadSize: 64 * MiB,
  delayCpSize: 32 * MiB,
}

/** Issue 7's targets, as marked in the tables (README quotes them). */
export const TARGETS = {
  /** mapnfs / the FUSE ceiling of its front end, per load. */
  ceiling: { seqWrite: 0.85, seqRead: 0.6, rand16: 0.5, stat: 0.8, create: 0.6 } as Partial<Record<LoadKey, number>>,
  /** Sequential read also above nfs-cp. */
  aboveNfsCp: ['seqRead'] as LoadKey[],
  /** At most this many RPCs per stat with caching off. */
  rpcsPerStat: 1,
  /** With DELAY_MS each way: at least this share of the same column's no-delay number. */
  delayShare: 0.5,
  /** Daemon peak RSS writing through the slow (delayed) server. */
  peakRssMiB: 200,
  /** Pool vs inline: no load below this ratio. */
  poolFloor: 0.9,
}

// The files the loads need, made once before anything is measured (layout in ./columns.ts).
// On the export they are made directly in the directory (fast, and owned by the mount's server
// identity so the application sees them as its own through the mapped mount); the FUSE ceiling
// gets its copies through its mount; nfs-cp's write sources live on tmpfs.
import { randomBytes } from 'node:crypto'
import { chmodSync, chownSync, closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { makeTempDir } from '../../test/fixtures/paths.js'
import { onExit } from '../../test/fixtures/proc.js'
import { runMetaLoad } from '../lib/meta.js'
import { APP_ID, SERVER_ID, type Params } from './config.js'

const MiB = 1024 * 1024
/** Incompressible data, in case anything on the way compresses or dedups (nothing should). */
const PATTERN = randomBytes(MiB)

function writeFile(path: string, size: number): void {
  const fd = openSync(path, 'w', 0o644)
  try {
    for (let off = 0; off < size; off += MiB) writeSync(fd, PATTERN, 0, Math.min(MiB, size - off))
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Reads PATH to the end: makes a file on the export warm in the server's page cache. */
function readAll(path: string): void {
  const fd = openSync(path, 'r')
  const buf = Buffer.allocUnsafe(MiB)
  try {
    while (readSync(fd, buf, 0, MiB, null) > 0);
  } finally {
    closeSync(fd)
  }
}

function copy(from: string, to: string): void {
  const src = openSync(from, 'r')
  const dst = openSync(to, 'w', 0o644)
  const buf = Buffer.allocUnsafe(MiB)
  try {
    for (let n; (n = readSync(src, buf, 0, MiB, null)) > 0;) writeSync(dst, buf, 0, n)
  } finally {
    closeSync(src)
    closeSync(dst)
  }
}

/** seq.dat, delay.dat and meta/f0..N on the export, owned by the server identity; data read once (warm). */
export function prepareExport(dir: string, p: Params): void {
  for (const [name, size] of [['seq.dat', p.seqSize], ['delay.dat', p.delayReadSize]] as const) {
    writeFile(join(dir, name), size)
    chownSync(join(dir, name), SERVER_ID, SERVER_ID)
    readAll(join(dir, name))
  }
  const meta = join(dir, 'meta')
  mkdirSync(meta)
  chmodSync(meta, 0o777)
  for (let i = 0; i < p.lsEntries; i++) {
    const f = join(meta, `f${i}`)
    closeSync(openSync(f, 'w', 0o644))
    chownSync(f, SERVER_ID, SERVER_ID)
  }
}

/** The same files in the FUSE ceiling: seq.dat copied through the mount, meta/ created by the application user. */
export async function prepareCeiling(mnt: string, exportDir: string, p: Params): Promise<void> {
  copy(join(exportDir, 'seq.dat'), join(mnt, 'seq.dat'))
  mkdirSync(join(mnt, 'meta'))
  chmodSync(join(mnt, 'meta'), 0o777)
  await runMetaLoad({ load: 'create', dir: join(mnt, 'meta'), prefix: 'f', count: p.lsEntries }, APP_ID, 120_000)
}

export interface NfsCpFiles {
  /** nfs-cp's write sources (main and delayed sizes) and the file its reads land in. */
  src: string
  delaySrc: string
  out: string
  remove(): void
}

/**
 * The write sources in a private directory on /dev/shm (tmpfs: reading them costs nfs-cp next to
 * nothing). Reads land in a new file on the run's ext4 temp directory, removed right after each
 * copy (before any writeback): nfs-cp opens its destination O_CREAT|O_EXCL (strace), so neither
 * /dev/null nor a FIFO will do, and a tmpfs file cost it twice the system time of the page cache
 * here (0.4 against 0.2 s per 512 MiB). Filling those new page-cache pages is still 40-70 % of a
 * read's time (perf: copy_folio_from_iter_atomic), as filling the page cache is for fio through a
 * FUSE mount: on this VM freed pages go back to the host (virtio-balloon free page reporting), and
 * touching them again is slow.
 */
export function prepareNfsCpFiles(p: Params): NfsCpFiles {
  const dir = mkdtempSync('/dev/shm/mapnfs-bench-')
  const deregister = onExit(() => { rmSync(dir, { recursive: true, force: true }) })
  const t = { src: join(dir, 'src.dat'), delaySrc: join(dir, 'delay-src.dat'), out: join(makeTempDir('nfs-cp'), 'out.dat') }
  writeFile(t.src, p.seqSize)
  writeFile(t.delaySrc, p.delayCpSize)
  return {
    ...t,
    remove() {
      rmSync(dir, { recursive: true, force: true })
      deregister()
    },
  }
}

// libnfs's nfs-cp (Debian libnfs-utils), an independent C NFSv3 client, as a second opinion for
// sequential reads and writes. What it does (libnfs 4.0 utils/nfs-cp.c, checked on the wire with a
// counting proxy): a 1 MiB buffer, one synchronous READ or WRITE of 1 MiB at a time (one call in
// flight; WRITEs are UNSTABLE), and one COMMIT when the written file is closed. Either side may be
// a local path; the local side of a read must be a new file (it opens it O_CREAT|O_EXCL).
import { existsSync } from 'node:fs'
import { runTool, tail } from './run.js'

export const NFS_CP = '/usr/bin/nfs-cp'

export function requireNfsCp(): void {
  if (!existsSync(NFS_CP)) throw new Error(`${NFS_CP} is missing: apt-get install -y libnfs-utils`)
}

/**
 * Copies SRC to DST (each a local path or an nfs:// URL); resolves with the wall-clock seconds of
 * the whole process (start-up, MOUNT and the final COMMIT included: a few ms). Rejects on failure.
 */
export async function nfsCp(src: string, dst: string, timeoutMs: number): Promise<number> {
  const r = await runTool(NFS_CP, [src, dst], { timeoutMs })
  if (r.code !== 0) throw new Error(`nfs-cp ${src} ${dst} exited ${r.code ?? r.signal}: ${tail(r.stderr || r.stdout, 2)}`)
  return r.seconds
}

// What survives the node plugin: each published target, the volume and options it was published
// with, and the FUSE mount that pods may still hold, so a restarted plugin mounts again what kubelet
// believes is published and hands the new mount to running pods. Never a secret: the options are
// the volume attributes (a password is refused there), and for an LDAP volume only the uid/gid
// that LDAP resolved with the caller's password, so the volume comes back with the identity its
// caller proved. Written atomically, mode 0600.
import { readFileSync } from 'node:fs'
import { writeFileAtomic } from '../daemon/atomic-file.js'
import { isMountIdentity, type MountIdentity } from '../daemon/reattach.js'
import type { ServerIdentity } from '../mount/lifecycle.js'
import type { PodInfo } from './publish-request.js'

export interface PublicationRecord {
  volumeId: string
  opts: Record<string, string>
  readonly: boolean
  pod: PodInfo
  publishedAt: string
  /** The mount pods hold (device, type, source) while published. */
  device?: MountIdentity
  /** LDAP volumes: the identity resolved at publish time. */
  resolved?: ServerIdentity
}

export interface CsiState {
  /** By target path. */
  publications: Record<string, PublicationRecord>
}

const VERSION = 1

export class CsiStateError extends Error {
  readonly code = 'ERR_STATE'
}

export function loadCsiState(path: string): CsiState {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return { publications: {} }
    throw new CsiStateError(`cannot read the state file ${path}: ${code ?? 'error'}`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new CsiStateError(`the state file ${path} is not valid JSON (move it away to start empty)`)
  }
  const bad = (what: string): never => {
    throw new CsiStateError(`the state file ${path} is not a mapnfs csi state (${what})`)
  }
  const r = raw as { version?: unknown; publications?: unknown } | null
  if (typeof r !== 'object' || r === null) return bad('not an object')
  if (r.version !== VERSION) return bad(`version ${String(r.version)}, expected ${VERSION}`)
  if (typeof r.publications !== 'object' || r.publications === null) return bad('no publications')
  const out: CsiState = { publications: {} }
  for (const [target, v] of Object.entries(r.publications as Record<string, unknown>)) {
    const p = v as Partial<PublicationRecord> | null
    if (p === null || typeof p !== 'object' || typeof p.volumeId !== 'string' || typeof p.opts !== 'object' || p.opts === null || !target.startsWith('/')) return bad(`target ${target}`)
    const opts: Record<string, string> = {}
    for (const [k, val] of Object.entries(p.opts)) {
      if (typeof val !== 'string') return bad(`target ${target} option ${k}`)
      opts[k] = val
    }
    const pod = typeof p.pod === 'object' && p.pod !== null ? p.pod : {}
    out.publications[target] = {
      volumeId: p.volumeId,
      opts,
      readonly: p.readonly === true,
      pod: { ...(typeof pod.namespace === 'string' ? { namespace: pod.namespace } : {}), ...(typeof pod.name === 'string' ? { name: pod.name } : {}), ...(typeof pod.uid === 'string' ? { uid: pod.uid } : {}) },
      publishedAt: typeof p.publishedAt === 'string' ? p.publishedAt : new Date(0).toISOString(),
      ...(isMountIdentity(p.device) ? { device: p.device } : {}),
      ...(isServerIdentity(p.resolved) ? { resolved: { uid: p.resolved.uid, gid: p.resolved.gid, ...(p.resolved.gids ? { gids: p.resolved.gids } : {}) } } : {}),
    }
  }
  return out
}

function isServerIdentity(v: unknown): v is ServerIdentity {
  const s = v as Partial<ServerIdentity> | null
  const id = (n: unknown): boolean => Number.isInteger(n) && (n as number) > 0 && (n as number) < 2 ** 32
  return typeof s === 'object' && s !== null && id(s.uid) && id(s.gid) && (s.gids === undefined || (Array.isArray(s.gids) && s.gids.every(id)))
}

export function saveCsiState(path: string, state: CsiState): void {
  try {
    writeFileAtomic(path, JSON.stringify({ version: VERSION, publications: state.publications }, null, 2) + '\n')
  } catch (err) {
    throw new CsiStateError(`cannot write the state file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

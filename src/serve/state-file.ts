// What survives the daemon: each volume's options and the caller IDs that hold it mounted, so a
// restarted daemon mounts again what the orchestrator believes is mounted. Written whole to a
// temporary file in the same directory, fsynced and renamed over the old one (a crash leaves the
// old state or the new, never half of one), mode 0600. Volume options never hold a secret (a
// `password` option is refused), only the path of a password file.
import { readFileSync } from 'node:fs'
import { writeFileAtomic } from '../daemon/atomic-file.js'
import { isMountIdentity, type MountIdentity } from '../daemon/reattach.js'

export interface VolumeRecord {
  /** The options as the orchestrator sent them (source included). */
  opts: Record<string, string>
  createdAt: string
  /** Caller IDs holding the volume mounted (Docker's Mount/Unmount `ID`). */
  mountedBy: string[]
  /**
   * The volume's last mount (device, type, source) while callers held it: containers
   * still hold that mount after the daemon stops, and a restarted daemon replaces it (reattach.ts).
   */
  device?: MountIdentity
}

export interface DaemonState {
  volumes: Record<string, VolumeRecord>
}

const VERSION = 1

export class StateError extends Error {
  readonly code = 'ERR_STATE'
  constructor(message: string) {
    super(message)
    this.name = 'StateError'
  }
}

/** The state in PATH; an empty state when the file does not exist yet. */
export function loadState(path: string): DaemonState {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return { volumes: {} }
    throw new StateError(`cannot read the state file ${path}: ${code ?? 'error'}`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new StateError(`the state file ${path} is not valid JSON (move it away to start empty)`)
  }
  return checkState(raw, path)
}

function checkState(raw: unknown, path: string): DaemonState {
  const bad = (what: string): never => {
    throw new StateError(`the state file ${path} is not a mapnfs state (${what})`)
  }
  if (typeof raw !== 'object' || raw === null) return bad('not an object')
  const r = raw as { version?: unknown; volumes?: unknown }
  if (r.version !== VERSION) return bad(`version ${String(r.version)}, expected ${VERSION}`)
  if (typeof r.volumes !== 'object' || r.volumes === null) return bad('no volumes')
  const volumes: Record<string, VolumeRecord> = {}
  for (const [name, v] of Object.entries(r.volumes as Record<string, unknown>)) {
    const rec = v as Partial<VolumeRecord> | null
    if (rec === null || typeof rec !== 'object' || typeof rec.opts !== 'object' || rec.opts === null || !Array.isArray(rec.mountedBy)) return bad(`volume ${name}`)
    const opts: Record<string, string> = {}
    for (const [k, val] of Object.entries(rec.opts)) {
      if (typeof val !== 'string') return bad(`volume ${name} option ${k}`)
      opts[k] = val
    }
    volumes[name] = {
      opts,
      createdAt: typeof rec.createdAt === 'string' ? rec.createdAt : new Date(0).toISOString(),
      mountedBy: rec.mountedBy.filter((id): id is string => typeof id === 'string'),
      ...(isMountIdentity(rec.device) ? { device: rec.device } : {}),
    }
  }
  return { volumes }
}

/** Replaces PATH with STATE atomically (daemon/atomic-file.ts). */
export function saveState(path: string, state: DaemonState): void {
  try {
    writeFileAtomic(path, JSON.stringify({ version: VERSION, volumes: state.volumes }, null, 2) + '\n')
  } catch (err) {
    throw new StateError(`cannot write the state file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

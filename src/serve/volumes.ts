// The volumes one daemon serves. Each is a name, the options it was created with and the set of
// caller IDs that hold it mounted; its FUSE mount (src/mount's runMount, with its own identity,
// engine and connections) exists while at least one ID holds it. Calls for one volume run one at a
// time (two containers starting at once must not mount twice); calls for different volumes run
// side by side. Every change is written to the state file before the call answers.
import { mkdirSync, rmdirSync } from 'node:fs'
import { join } from 'node:path'
import { setMaxListeners } from 'node:events'
import type { Logger } from 'pino'
import { runMount, type RunningMount } from '../mount/lifecycle.js'
import { parseVolumeOptions } from '../mount/options.js'
import { describeError } from '../mount/describe.js'
import { statsFields } from '../mount/stats.js'
import { mountLog, shown } from '../daemon/logger.js'
import type { VolumeMetrics } from '../daemon/metrics.js'
import { clearDeadMount, MountPointBusy } from '../daemon/mount-point.js'
import { OpErrorLog } from '../daemon/op-errors.js'
import { KeyedQueue } from '../daemon/keyed-queue.js'
import { carryOver, mountIdentity, type MountIdentity } from '../daemon/reattach.js'
import { loadState, saveState, type DaemonState } from './state-file.js'

/** A refused call; `message` is what the orchestrator shows its user. */
export class VolumeError extends Error {
  readonly code = 'ERR_VOLUME'
  constructor(message: string) {
    super(message)
    this.name = 'VolumeError'
  }
}

/** Docker's rule for volume names, so every name dockerd accepts is accepted here. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/

export interface VolumeView {
  Name: string
  Mountpoint: string
  CreatedAt: string
  Status?: Record<string, unknown>
}

interface Volume {
  name: string
  opts: Record<string, string>
  createdAt: string
  mountedBy: Set<string>
  running: RunningMount | null
  /** FUSE device of the mount containers may hold (see VolumeRecord.device). */
  device: MountIdentity | undefined
  opErrors: OpErrorLog
  log: Logger
}

export interface VolumeServiceOptions {
  statePath: string
  /** Volumes are mounted at MOUNT_ROOT/NAME. */
  mountRoot: string
  logger: Logger
  /** LDAP_* settings as the daemon found them at start (LDAP volumes). */
  ldapEnv: NodeJS.ProcessEnv
}

export class VolumeService {
  readonly #o: VolumeServiceOptions
  readonly #volumes = new Map<string, Volume>()
  readonly #queue = new KeyedQueue()
  /** Aborted by shutdown(): mounts still starting fail, serving ones unmount. */
  readonly #closing = new AbortController()

  constructor(o: VolumeServiceOptions) {
    this.#o = o
    // Every mount listens to this one signal: as many listeners as volumes is expected.
    setMaxListeners(0, this.#closing.signal)
    const state = loadState(o.statePath)
    for (const [name, rec] of Object.entries(state.volumes)) {
      if (!NAME.test(name)) continue
      this.#volumes.set(name, { ...this.#volume(name, rec.opts, rec.createdAt, rec.mountedBy), device: rec.device })
    }
  }

  #volume(name: string, opts: Record<string, string>, createdAt: string, mountedBy: Iterable<string>): Volume {
    return { name, opts, createdAt, mountedBy: new Set(mountedBy), running: null, device: undefined, ...logs(this.#o.logger.child({ volume: name })) }
  }

  mountpointOf(name: string): string {
    return join(this.#o.mountRoot, name)
  }

  #get(name: unknown): Volume {
    const v = typeof name === 'string' ? this.#volumes.get(name) : undefined
    if (typeof name !== 'string') throw new VolumeError('the request names no volume (Name)')
    if (v === undefined) throw new VolumeError(`no such volume: ${shown(name)}`)
    return v
  }

  #save(): void {
    const state: DaemonState = { volumes: {} }
    for (const v of this.#volumes.values()) {
      state.volumes[v.name] = { opts: v.opts, createdAt: v.createdAt, mountedBy: [...v.mountedBy], ...(v.device !== undefined ? { device: v.device } : {}) }
    }
    saveState(this.#o.statePath, state)
  }

  async create(name: unknown, opts: unknown): Promise<void> {
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new VolumeError(`invalid volume name ${JSON.stringify(name)}: use letters, digits, '_', '.', '-' (not first), at most 255`)
    }
    if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) throw new VolumeError('Opts must be an object of option names to values')
    const given = (opts ?? {}) as Record<string, unknown>
    // The same checks (and texts) as `mapnfs mount`, before anything is recorded.
    parseVolumeOptions(given, this.mountpointOf(name))
    const clean = given as Record<string, string>
    return this.#queue.run(name, async () => {
      const existing = this.#volumes.get(name)
      if (existing !== undefined) {
        if (sameOptions(existing.opts, clean)) return
        throw new VolumeError(`volume ${name} already exists with other options (remove it first)`)
      }
      this.#volumes.set(name, this.#volume(name, { ...clean }, new Date().toISOString(), []))
      try {
        this.#save()
      } catch (err) {
        // Not recorded, not created: the orchestrator is told it failed.
        this.#volumes.delete(name)
        throw err
      }
      this.#volumes.get(name)!.log.info({ event: 'create' }, `created volume ${name}`)
    })
  }

  async remove(name: unknown): Promise<void> {
    const v = this.#get(name)
    return this.#queue.run(v.name, async () => {
      if (this.#volumes.get(v.name) !== v) throw new VolumeError(`no such volume: ${v.name}`)
      if (v.mountedBy.size > 0) throw new VolumeError(`volume ${v.name} is in use (mounted for ${v.mountedBy.size} caller(s)); unmount it first`)
      if (v.running !== null) await this.#stop(v)
      this.#volumes.delete(v.name)
      this.#save()
      try {
        rmdirSync(this.mountpointOf(v.name))
      } catch {
        // Never mounted, or not empty: a directory we did not fill is not ours to delete.
      }
      v.log.info({ event: 'remove' }, `removed volume ${v.name}`)
    })
  }

  /** Mounts NAME for caller ID (again for an ID that holds it already: same answer). */
  async mount(name: unknown, id: unknown): Promise<string> {
    const v = this.#get(name)
    const caller = callerId(id)
    return this.#queue.run(v.name, async () => {
      if (this.#volumes.get(v.name) !== v) throw new VolumeError(`no such volume: ${v.name}`)
      if (v.running === null) await this.#start(v)
      if (!v.mountedBy.has(caller)) {
        v.mountedBy.add(caller)
        try {
          this.#save()
        } catch (err) {
          // The orchestrator hears of a failed Mount and will not Unmount: hold nothing for it.
          v.mountedBy.delete(caller)
          if (v.mountedBy.size === 0) await this.#stop(v)
          throw err
        }
      }
      v.log.info({ event: 'mount-ref', id: caller, references: v.mountedBy.size }, `mounted for ${shown(caller)} (${v.mountedBy.size} reference(s))`)
      return this.mountpointOf(v.name)
    })
  }

  async unmount(name: unknown, id: unknown): Promise<void> {
    const v = this.#get(name)
    const caller = callerId(id)
    return this.#queue.run(v.name, async () => {
      if (!v.mountedBy.has(caller)) throw new VolumeError(`volume ${v.name} is not mounted for ID ${shown(caller)}`)
      v.mountedBy.delete(caller)
      this.#save()
      v.log.info({ event: 'unmount-ref', id: caller, references: v.mountedBy.size }, `released by ${shown(caller)} (${v.mountedBy.size} reference(s) left)`)
      if (v.mountedBy.size === 0 && v.running !== null) {
        await this.#stop(v)
        // Nobody holds it: no container to carry over to a later mount.
        v.device = undefined
        this.#save()
      }
    })
  }

  /** Where NAME is mounted, or '' while it is not (nothing to see in an empty directory). */
  path(name: unknown): string {
    const v = this.#get(name)
    return v.running !== null ? this.mountpointOf(v.name) : ''
  }

  get(name: unknown): VolumeView {
    return this.#view(this.#get(name))
  }

  list(): VolumeView[] {
    return [...this.#volumes.values()].map((v) => this.#view(v))
  }

  #view(v: Volume): VolumeView {
    return {
      Name: v.name,
      Mountpoint: v.running !== null ? this.mountpointOf(v.name) : '',
      CreatedAt: v.createdAt,
      Status: { mounted: v.running !== null, references: v.mountedBy.size },
    }
  }

  metrics(): VolumeMetrics[] {
    return [...this.#volumes.values()].map((v) => ({
      labels: { volume: v.name },
      mounted: v.running !== null,
      references: v.mountedBy.size,
      stats: v.running?.stats() ?? null,
      opErrors: v.opErrors.counts,
    }))
  }

  /** Logs every mounted volume's stats line (SIGUSR2). */
  logStats(): void {
    for (const v of this.#volumes.values()) {
      const s = v.running?.stats()
      if (s !== undefined) v.log.info({ event: 'stats', stats: statsFields(s) }, 'stats')
    }
  }

  /** After a restart: mounts again every volume some caller still holds. */
  async restore(): Promise<void> {
    await Promise.all([...this.#volumes.values()].filter((v) => v.mountedBy.size > 0).map((v) =>
      this.#queue.run(v.name, async () => {
        if (v.running === null) await this.#start(v)
      }).catch((err: unknown) => {
        v.log.error({ event: 'remount-failed', err: describeError(err) }, `could not mount again after the restart: ${describeError(err)} (the next Mount tries again)`)
      })))
  }

  /** Unmounts everything (committing what open files hold); the state keeps who held what. */
  async shutdown(): Promise<void> {
    this.#closing.abort()
    const pending = this.#queue.pending()
    await Promise.all([...this.#volumes.values()].filter((v) => v.running !== null).map((v) => this.#stop(v)))
    await Promise.all(pending)
    await Promise.all([...this.#volumes.values()].filter((v) => v.running !== null).map((v) => this.#stop(v)))
  }

  async #start(v: Volume): Promise<void> {
    if (this.#closing.signal.aborted) throw new VolumeError('the daemon is shutting down')
    let o
    try {
      o = parseVolumeOptions(v.opts, this.mountpointOf(v.name))
    } catch (err) {
      throw new VolumeError(describeError(err))
    }
    const mp = o.mountpoint
    // A mount left by a daemon that died: ours (it is under our root), and dead to every caller.
    // Cleared first: even mkdir of a dead FUSE mount point fails (ENOTCONN).
    try {
      await clearDeadMount(mp, v.log)
    } catch (err) {
      if (err instanceof MountPointBusy) throw new VolumeError(`${err.message} (another daemon with the same --mount-root?)`)
      throw err
    }
    try {
      // 0711, as dockerd's own volumes directory: other users may reach a mount they are told of, not list them.
      mkdirSync(this.#o.mountRoot, { recursive: true, mode: 0o711 })
      mkdirSync(mp, { recursive: true, mode: 0o755 })
    } catch (err) {
      throw new VolumeError(`cannot create the mount point ${mp}: ${(err as NodeJS.ErrnoException).code ?? describeError(err)}`)
    }
    let running: RunningMount
    try {
      running = await runMount(o, {
        log: mountLog(v.log),
        signal: this.#closing.signal,
        onOpError: (op, errno) => v.opErrors.record(op, errno),
        ldapEnv: this.#o.ldapEnv,
      })
    } catch (err) {
      v.log.warn({ event: 'mount-failed', err: describeError(err) }, `mount failed: ${describeError(err)}`)
      throw new VolumeError(describeError(err))
    }
    v.running = running
    const previous = v.device
    v.device = mountIdentity(mp)
    this.#save()
    if (previous !== undefined && previous.device !== v.device?.device) carryOver(previous, mp, v.log)
    v.log.info({ event: 'mount', source: o.sourceText, mountpoint: mp, ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid } : {}), ...(o.username !== undefined ? { username: o.username } : {}) },
      `mounted ${o.sourceText} on ${mp}`)
    void running.done.then(() => {
      if (v.running !== running) return
      v.running = null
      v.log.warn({ event: 'mount-gone', mountpoint: mp }, `the mount on ${mp} went away (unmounted from outside); the next Mount mounts it again`)
    })
  }

  async #stop(v: Volume): Promise<void> {
    const running = v.running
    if (running === null) return
    v.running = null
    await running.stop()
    v.log.info({ event: 'unmount', mountpoint: running.mountpoint }, `unmounted ${running.mountpoint}`)
  }
}

function callerId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 256) throw new VolumeError('ID must be a non-empty string (the caller that mounts)')
  return id
}

function sameOptions(a: Record<string, string>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a).sort()
  const kb = Object.keys(b).sort()
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k])
}

function logs(log: Logger): { log: Logger; opErrors: OpErrorLog } {
  return { log, opErrors: new OpErrorLog(log) }
}

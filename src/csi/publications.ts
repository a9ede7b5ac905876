// The volumes this node plugin has published: one FUSE mount per target path, made at the target
// itself (kubelet bind-mounts it into the pod's containers), with its own identity, engine and
// connections. Calls for one target run one at a time; different targets run side by side. Every
// change reaches the state file before the call answers, and a restarted plugin mounts again
// every target it lists and gives running pods the new mount in place of the dead one.
import { mkdirSync, rmdirSync } from 'node:fs'
import { statfs } from 'node:fs/promises'
import { setMaxListeners } from 'node:events'
import type { Logger } from 'pino'
import { runMount, type RunningMount } from '../mount/lifecycle.js'
import { isMounted, readMountinfo } from '../mount/mounts.js'
import { parseVolumeOptions } from '../mount/options.js'
import { describeError } from '../mount/describe.js'
import { statsFields } from '../mount/stats.js'
import { mountLog } from '../daemon/logger.js'
import type { VolumeMetrics } from '../daemon/metrics.js'
import { clearDeadMount, MountPointBusy } from '../daemon/mount-point.js'
import { OpErrorLog } from '../daemon/op-errors.js'
import { KeyedQueue } from '../daemon/keyed-queue.js'
import { carryOver, mountIdentity } from '../daemon/reattach.js'
import { alreadyExists, Code, CsiError, invalid, notFound } from './errors.js'
import type { PublishRequest } from './publish-request.js'
import { loadCsiState, saveCsiState, type PublicationRecord } from './state-file.js'

/** A statfs that has not answered in this long is reported as an abnormal condition, not waited out. */
const STATFS_TIMEOUT_MS = 5000

interface Publication extends PublicationRecord {
  target: string
  running: RunningMount | null
  /** Why the last mount attempt failed (restore), for the volume condition. */
  failure: string | null
  /** The NFS server, for condition messages. */
  host: string
  log: Logger
  opErrors: OpErrorLog
}

export interface VolumeStats {
  usage: { unit: 'BYTES' | 'INODES'; total: string; available: string; used: string }[]
  condition: { abnormal: boolean; message: string }
}

export interface PublicationsOptions {
  statePath: string
  logger: Logger
  /** LDAP_* settings as the plugin found them at start. */
  ldapEnv: NodeJS.ProcessEnv
}

export class Publications {
  readonly #o: PublicationsOptions
  readonly #byTarget = new Map<string, Publication>()
  readonly #queue = new KeyedQueue()
  readonly #closing = new AbortController()

  constructor(o: PublicationsOptions) {
    this.#o = o
    setMaxListeners(0, this.#closing.signal)
    for (const [target, rec] of Object.entries(loadCsiState(o.statePath).publications)) this.#byTarget.set(target, this.#entry(target, rec))
  }

  #entry(target: string, rec: PublicationRecord): Publication {
    const log = this.#o.logger.child({ volume: rec.volumeId, target })
    return { ...rec, target, running: null, failure: null, host: rec.opts.source ?? rec.opts.share ?? '?', log, opErrors: new OpErrorLog(log) }
  }

  #save(): void {
    const publications: Record<string, PublicationRecord> = {}
    for (const p of this.#byTarget.values()) {
      publications[p.target] = {
        volumeId: p.volumeId,
        opts: p.opts,
        readonly: p.readonly,
        pod: p.pod,
        publishedAt: p.publishedAt,
        ...(p.device !== undefined ? { device: p.device } : {}),
        ...(p.resolved !== undefined ? { resolved: p.resolved } : {}),
      }
    }
    saveCsiState(this.#o.statePath, { publications })
  }

  async publish(r: PublishRequest): Promise<void> {
    return this.#queue.run(r.targetPath, async () => {
      const existing = this.#byTarget.get(r.targetPath)
      if (existing !== undefined) {
        if (existing.volumeId !== r.volumeId) throw alreadyExists(`${r.targetPath} is already published for volume ${existing.volumeId}`)
        if (!sameOptions(existing.opts, r.opts)) throw alreadyExists(`volume ${r.volumeId} is already published at ${r.targetPath} with other options or another readonly flag`)
        // The same publish again: done, or mounted again if the mount went away.
        if (existing.running === null) await this.#start(existing, r.password)
        return
      }
      const p = this.#entry(r.targetPath, { volumeId: r.volumeId, opts: { ...r.opts }, readonly: r.readonly, pod: r.pod, publishedAt: new Date().toISOString() })
      await this.#start(p, r.password)
      this.#byTarget.set(p.target, p)
      try {
        this.#save()
      } catch (err) {
        // kubelet hears of a failure and will not unpublish: hold nothing for it.
        this.#byTarget.delete(p.target)
        await this.#stop(p)
        removeTarget(p.target)
        throw err
      }
      p.log.info({ event: 'publish', pod: podName(p), readonly: p.readonly }, `published ${p.volumeId} at ${p.target}`)
    })
  }

  async unpublish(volumeId: string, target: string): Promise<void> {
    return this.#queue.run(target, async () => {
      const p = this.#byTarget.get(target)
      if (p === undefined) {
        // Not ours (any more): what a crash between unmount and answer can leave is cleaned up.
        await this.#clearUnknown(target)
        return
      }
      if (p.volumeId !== volumeId) throw notFound(`${target} holds volume ${p.volumeId}, not ${volumeId}`)
      await this.#stop(p)
      this.#byTarget.delete(target)
      this.#save()
      if (!removeTarget(target)) p.log.warn({ event: 'target-kept' }, `${target} is not empty after the unmount; left in place`)
      p.log.info({ event: 'unpublish' }, `unpublished ${p.volumeId} from ${target}`)
    })
  }

  async #clearUnknown(target: string): Promise<void> {
    if (isMounted(target)) {
      const m = readMountinfo().filter((e) => e.target === target).pop()
      // Someone else's mount on a path kubelet gave us: not ours to take down.
      if (m === undefined || !m.fstype.startsWith('fuse')) return
      try {
        await clearDeadMount(target, this.#o.logger)
      } catch (err) {
        if (err instanceof MountPointBusy) return
        throw err
      }
    }
    removeTarget(target)
  }

  async stats(volumeId: string, path: string): Promise<VolumeStats> {
    const ofVolume = [...this.#byTarget.values()].filter((p) => p.volumeId === volumeId)
    if (ofVolume.length === 0) throw notFound(`volume ${volumeId} is not published on this node`)
    const p = ofVolume.find((q) => q.target === path.replace(/\/+$/, ''))
    if (p === undefined) throw notFound(`volume ${volumeId} is not published at ${path}`)
    const running = p.running
    if (running === null) return { usage: [], condition: { abnormal: true, message: `not mounted: ${p.failure ?? 'the mount went away'}; kubelet's next publish mounts it again` } }
    const silent = running.notRespondingSince()
    if (silent !== null) return { usage: [], condition: { abnormal: true, message: `NFS server ${p.host} not responding since ${silent.toISOString()}` } }
    const s = await withTimeout(statfs(p.target, { bigint: true }), STATFS_TIMEOUT_MS)
    if (s === null) return { usage: [], condition: { abnormal: true, message: `statfs of ${p.target} did not answer within ${STATFS_TIMEOUT_MS / 1000} s` } }
    const bytes = (n: bigint): string => (n * s.bsize).toString()
    return {
      usage: [
        { unit: 'BYTES', total: bytes(s.blocks), available: bytes(s.bavail), used: bytes(s.blocks - s.bfree) },
        { unit: 'INODES', total: s.files.toString(), available: s.ffree.toString(), used: (s.files - s.ffree).toString() },
      ],
      condition: { abnormal: false, message: `mounted; NFS server ${p.host} responding` },
    }
  }

  metrics(): VolumeMetrics[] {
    return [...this.#byTarget.values()].map((p) => ({
      labels: { volume: p.volumeId, target: p.target },
      mounted: p.running !== null,
      references: 1,
      stats: p.running?.stats() ?? null,
      opErrors: p.opErrors.counts,
    }))
  }

  count(): number {
    return this.#byTarget.size
  }

  logStats(): void {
    for (const p of this.#byTarget.values()) {
      const s = p.running?.stats()
      if (s !== undefined) p.log.info({ event: 'stats', stats: statsFields(s) }, 'stats')
    }
  }

  /** After a restart: mounts every listed target again, with the identity it had. */
  async restore(): Promise<void> {
    await Promise.all([...this.#byTarget.values()].map((p) =>
      this.#queue.run(p.target, async () => {
        if (p.running === null && this.#byTarget.get(p.target) === p) await this.#start(p, undefined)
      }).catch((err: unknown) => {
        p.failure = describeError(err)
        p.log.error({ event: 'remount-failed', err: p.failure }, `could not mount ${p.target} again after the restart: ${p.failure} (kubelet's next publish tries again)`)
      })))
  }

  /** SIGTERM: unmounts everything (open files commit first); the state keeps what was published. */
  async shutdown(): Promise<void> {
    this.#closing.abort()
    const pending = this.#queue.pending()
    await Promise.all([...this.#byTarget.values()].map((p) => this.#stop(p)))
    await Promise.all(pending)
    await Promise.all([...this.#byTarget.values()].map((p) => this.#stop(p)))
  }

  async #start(p: Publication, password: string | undefined): Promise<void> {
    if (this.#closing.signal.aborted) throw new CsiError(Code.UNAVAILABLE, 'the plugin is shutting down')
    let o
    try {
      o = parseVolumeOptions(p.opts, p.target, { password: password !== undefined || p.resolved !== undefined })
    } catch (err) {
      throw invalid(describeError(err))
    }
    if (o.username !== undefined && password === undefined && p.resolved === undefined) throw invalid('LDAP username is specified but LDAP password is missing')
    try {
      await clearDeadMount(p.target, p.log)
    } catch (err) {
      if (err instanceof MountPointBusy) throw alreadyExists(`${p.target} is already mounted by something else`)
      throw err
    }
    try {
      mkdirSync(p.target, { recursive: true, mode: 0o750 })
    } catch (err) {
      throw new CsiError(Code.INTERNAL, `cannot create the target ${p.target}: ${(err as NodeJS.ErrnoException).code ?? describeError(err)}`)
    }
    let running: RunningMount
    try {
      running = await runMount(o, {
        log: mountLog(p.log),
        signal: this.#closing.signal,
        onOpError: (op, errno) => p.opErrors.record(op, errno),
        ldapEnv: this.#o.ldapEnv,
        ...(password !== undefined ? { ldapPassword: password } : p.resolved !== undefined ? { resolvedIdentity: p.resolved } : {}),
      })
    } catch (err) {
      const why = describeError(err)
      p.log.warn({ event: 'mount-failed', err: why }, `mount failed: ${why}`)
      if (this.#byTarget.get(p.target) !== p) removeTarget(p.target)
      throw new CsiError(mountFailureCode(err), why)
    }
    p.running = running
    p.failure = null
    p.host = o.source.host
    if (o.username !== undefined && running.serverIdentity !== null) p.resolved = running.serverIdentity
    const previous = p.device
    p.device = mountIdentity(p.target)
    if (this.#byTarget.get(p.target) === p) this.#save()
    if (previous !== undefined && previous.device !== p.device?.device) carryOver(previous, p.target, p.log)
    p.log.info({ event: 'mount', source: o.sourceText, mountpoint: p.target, ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid } : {}), ...(o.username !== undefined ? { username: o.username } : {}) },
      `mounted ${o.sourceText} on ${p.target}`)
    void running.done.then(() => {
      if (p.running !== running) return
      p.running = null
      p.failure = 'unmounted from outside'
      p.log.warn({ event: 'mount-gone', mountpoint: p.target }, `the mount on ${p.target} went away (unmounted from outside)`)
    })
  }

  async #stop(p: Publication): Promise<void> {
    const running = p.running
    if (running === null) return
    p.running = null
    await running.stop()
    p.log.info({ event: 'unmount', mountpoint: p.target }, `unmounted ${p.target}`)
  }
}

/** Option texts are the user's to fix; a server that refuses or does not answer is the node's condition. */
function mountFailureCode(err: unknown): Code {
  const code = (err as { code?: unknown }).code
  if (code === 'ERR_USAGE' || code === 'ERR_IDENTITY') return Code.INVALID_ARGUMENT
  if (err instanceof CsiError) return err.grpcCode
  return Code.FAILED_PRECONDITION
}

function removeTarget(target: string): boolean {
  try {
    rmdirSync(target)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
  }
}

function sameOptions(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort()
  const kb = Object.keys(b).sort()
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k])
}

function podName(p: Publication): string | undefined {
  return p.pod.namespace !== undefined && p.pod.name !== undefined ? `${p.pod.namespace}/${p.pod.name}` : undefined
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms)
  })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

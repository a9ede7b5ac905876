// LockManager: one mount's fcntl and flock locks, held on the NFS server through NLM v4, as the
// kernel NFS client holds them. Each kernel lock owner (a process's fcntl locks, one open file's
// flock) becomes an NLM owner: an owner handle (this mount's tag + kind + the kernel's owner id)
// and an svid, sent with the caller's credential (the mount's mapped identity).
//
// Recovery, which is what NLM leaves to the client:
// - the server restarts (its locks are gone; it grants only reclaims during its grace period):
//   the NLM connection drops, and every held range is reclaimed (LOCK with reclaim set), before
//   any new request goes out;
// - this daemon is killed holding locks (the server would keep them until this host reboots):
//   the journal lists them, and the next run on the same mount point releases them with the
//   very owner handles used;
// - the host reboots: the next run finds another boot id and sends SM_NOTIFY to each server it
//   locked at (nsm.ts), whose status monitor then drops this host's locks.
import { randomBytes } from 'node:crypto'
import type { XdrCodec } from '../xdr/codec.js'
import {
  NLM4_BLOCKED, NLM4_DENIED, NLM4_DENIED_GRACE_PERIOD, NLM4_GRANTED, type NlmHolder, type NlmLock,
} from '../xdr/lock-codec.js'
import type { AuthSys } from '../xdr/types.js'
import { NlmClient } from '../proto/nlm/client.js'
import { NlmError } from '../proto/nlm/errors.js'
import { LockInterruptedError, LockRequestError } from './errors.js'
import { GrantService, TAG_BYTES, type Grant } from './grant-service.js'
import { addRange, fromNlmRange, overlaps, subtract, TO_EOF, toNlmRange, type LockOwner } from './held-locks.js'
import { LockJournal, type JournalState } from './lock-journal.js'

export const F_RDLCK = 0
export const F_WRLCK = 1
export const F_UNLCK = 2

/** A lock request from the kernel: whose (owner, flock or fcntl), what (type), where (inclusive range). */
export interface LockArgs {
  owner: bigint
  flock: boolean
  type: number
  start: bigint
  /** Inclusive; TO_EOF (OFFSET_MAX) for "to the end of the file". */
  end: bigint
  /** The open file (FUSE file handle) the request came through: see releaseOpenFile. */
  openFile?: number
  /** The requesting process (in this daemon's pid namespace), for F_GETLK on this mount. */
  pid?: number
}

/** F_GETLK's answer: F_UNLCK when nothing conflicts, else the conflicting lock (its pid on this mount, else 0). */
export interface LockInfo {
  type: number
  start: bigint
  end: bigint
  pid: number
}

export interface LockManagerOptions {
  codec: XdrCodec
  /** The NFS server and its lock manager's TCP port. */
  host: string
  nlmPort: number
  reservedPort: boolean
  timeoutMs: number
  retrans: number
  /** caller_name in every lock: this host's name (servers monitor it with their statd). */
  callerName: string
  /** NSM state of this host (odd; bumped on each reboot). */
  nsmState: number
  /** The journal of this mount's held locks (kept across daemon runs). */
  journalPath: string
  /** Where processes list their grant callback ports (grant-service.ts). */
  registryDir: string
  /** Credential for calls not made for a caller (GRANTED_RES without a waiter). */
  mountAuth: AuthSys
  log: (line: string) => void
}

export interface LockStats {
  /** Locks granted (at once or after blocking), unlocks sent, TESTs sent. */
  granted: number
  unlocks: number
  tests: number
  /** LOCKs answered BLOCKED, and the grants that ended such a wait by callback. */
  blocked: number
  grantCallbacks: number
  /** Ranges reclaimed after the server restarted, and ranges it would not give back. */
  reclaimed: number
  lost: number
  /** Ranges held now. */
  held: number
}

/** Retry delay while the server is in its grace period (the kernel waits 5 s; ours are short). */
const GRACE_RETRY_MS = 1000
/** How long a blocked lock waits for a GRANTED callback before asking again. */
const POLL_WITH_CALLBACK_MS = 5000
const POLL_WITHOUT_CALLBACK_MS = 1000
/** How long unmount waits for the server to take back what is still held. */
const CLOSE_RELEASE_MS = 5000

interface Waiter {
  fhHex: string
  ohHex: string
  svid: number
  auth: AuthSys
  granted: boolean
  wake: (() => void) | null
}

export class LockManager {
  readonly #o: LockManagerOptions
  readonly #client: NlmClient
  readonly #grants: GrantService
  readonly #journal: LockJournal
  /** Leads every owner handle of this mount: grants are routed by it. */
  readonly #tag = randomBytes(TAG_BYTES)
  readonly #owners = new Map<string, LockOwner>()
  readonly #waiters = new Set<Waiter>()
  #svid = 0
  #reclaim: Promise<void> | null = null
  #closed = false
  readonly #stats = { granted: 0, unlocks: 0, tests: 0, blocked: 0, grantCallbacks: 0, reclaimed: 0, lost: 0 }

  private constructor(o: LockManagerOptions, client: NlmClient, grants: GrantService) {
    this.#o = o
    this.#client = client
    this.#grants = grants
    this.#journal = new LockJournal(o.journalPath)
    this.#journal.onError = (err) => this.#o.log(`lock: journal ${o.journalPath} not written: ${err.message}`)
  }

  /**
   * Connects to the server's lock manager, releases what a previous run on this mount left
   * (journal), and joins the process's grant callback service. Rejects with RpcConnectError when
   * the lock manager cannot be reached.
   */
  static async start(o: LockManagerOptions): Promise<LockManager> {
    let mgr: LockManager | undefined
    const client = await NlmClient.open(o.codec, {
      host: o.host, port: o.nlmPort, reservedPort: o.reservedPort, timeoutMs: o.timeoutMs, retrans: o.retrans,
      onDrop: () => { if (mgr !== undefined) mgr.#onServerDrop() },
    })
    try {
      const grants = await GrantService.shared(o.codec, o.registryDir, o.log)
      mgr = new LockManager(o, client, grants)
      await mgr.#releaseLeftovers()
      grants.add(mgr.#tag, (g, asMsg) => mgr!.#onGrant(g, asMsg))
      return mgr
    } catch (err) {
      await client.close()
      throw err
    }
  }

  stats(): LockStats {
    return { ...this.#stats, held: this.#heldRanges() }
  }

  #heldRanges(): number {
    let held = 0
    for (const o of this.#owners.values()) held += o.ranges.length
    return held
  }

  /** F_GETLK: what would stop OWNER from taking A (nothing: F_UNLCK). */
  async getlk(auth: AuthSys, fh: Buffer, a: LockArgs): Promise<LockInfo> {
    checkArgs(a)
    if (a.type === F_UNLCK) return { type: F_UNLCK, start: a.start, end: a.end, pid: 0 }
    await this.#reclaim
    // TEST names the owner so that its own locks do not count; an owner not yet known has none.
    const owner = this.#owners.get(ownerKey(fh, a.owner, a.flock)) ?? this.#newOwner(fh, a, auth)
    for (;;) {
      this.#stats.tests++
      const res = await this.#client.test(auth, a.type === F_WRLCK, this.#nlmLock(owner, a.start, a.end))
      if (res.stat === NLM4_GRANTED) return { type: F_UNLCK, start: a.start, end: a.end, pid: 0 }
      if (res.stat === NLM4_DENIED) {
        const h = res.holder
        if (h === undefined) return { type: F_WRLCK, start: a.start, end: a.end, pid: 0 }
        const r = fromNlmRange(h.offset, h.len)
        return { type: h.exclusive ? F_WRLCK : F_RDLCK, start: r.start, end: r.end, pid: this.#holderPid(h) }
      }
      if (res.stat === NLM4_DENIED_GRACE_PERIOD) {
        await sleep(GRACE_RETRY_MS)
        continue
      }
      throw new NlmError(res.stat, 'TEST')
    }
  }

  /**
   * F_SETLK / F_SETLKW (WAIT) and flock: takes, converts or releases A. Rejects with NlmError
   * (EAGAIN when another owner holds a conflicting lock and WAIT is false), LockInterruptedError
   * (EINTR) when SIGNAL ends a wait.
   */
  async setlk(auth: AuthSys, fh: Buffer, a: LockArgs, wait: boolean, signal?: AbortSignal): Promise<void> {
    checkArgs(a)
    await this.#reclaim
    if (a.type === F_UNLCK) {
      const held = this.#owners.get(ownerKey(fh, a.owner, a.flock))
      return held === undefined ? undefined : this.#unlock(held, a.start, a.end)
    }
    const owner = this.#owner(fh, a, auth)
    owner.auth = auth
    const exclusive = a.type === F_WRLCK
    const lock = this.#nlmLock(owner, a.start, a.end)
    const waiter: Waiter = { fhHex: fh.toString('hex'), ohHex: owner.oh.toString('hex'), svid: owner.svid, auth, granted: false, wake: null }
    // Listed before the LOCK goes out: a grant may overtake the BLOCKED reply.
    if (wait) this.#waiters.add(waiter)
    try {
      for (;;) {
        if (signal?.aborted) throw new LockInterruptedError()
        const pollMs = wait ? await this.#pollInterval() : 0
        const res = await this.#client.lock(auth, { block: wait, exclusive, reclaim: false }, lock, this.#o.nsmState)
        if (res.stat === NLM4_GRANTED || waiter.granted) break
        if (res.stat === NLM4_DENIED_GRACE_PERIOD) {
          await sleep(GRACE_RETRY_MS, signal)
          continue
        }
        if (res.stat === NLM4_BLOCKED && wait) {
          this.#stats.blocked++
          await this.#waitGrant(waiter, pollMs, signal)
          if (waiter.granted) break
          continue
        }
        throw new NlmError(res.stat, 'LOCK')
      }
    } catch (err) {
      if (err instanceof LockInterruptedError) {
        // The server still has our request queued: withdraw it (a grant in between is undone by CANCEL too).
        await this.#client.cancel(auth, exclusive, lock).catch((e: Error) => this.#o.log(`lock: CANCEL failed: ${e.message}`))
      }
      // An owner that holds nothing is forgotten (it gets a fresh svid next time).
      if (owner.ranges.length === 0) this.#owners.delete(owner.key)
      throw err
    } finally {
      this.#waiters.delete(waiter)
    }
    this.#stats.granted++
    owner.ranges = addRange(owner.ranges, a.start, a.end, exclusive)
    if (!a.flock) {
      if (a.openFile !== undefined) owner.openFiles.add(a.openFile)
      if (a.pid !== undefined) owner.pid = a.pid
    }
    this.#saveJournal()
  }

  /**
   * Releases every lock of OWNER on FH: fcntl locks when a descriptor of the process is closed
   * (FLUSH), an open file's flock when its last descriptor goes (RELEASE).
   */
  async releaseOwner(fh: Buffer, owner: bigint, flock: boolean): Promise<void> {
    const o = this.#owners.get(ownerKey(fh, owner, flock))
    if (o === undefined || o.ranges.length === 0) return
    await this.#reclaim
    await this.#unlock(o, 0n, TO_EOF)
  }

  /**
   * The last close of open file OPEN_FILE on FH: releases the fcntl locks still held through it.
   * Those are OFD locks (F_OFD_SETLK), whose owner is the open file itself and which no FLUSH
   * names. A process's own fcntl locks cannot be among them: each close() of a descriptor sends
   * FLUSH with the process's owner, which releases all its locks on the file, and RELEASE comes
   * only after every descriptor of the open file is closed. An owner that locks again through
   * another open file starts a new set (it was forgotten when it held nothing).
   */
  async releaseOpenFile(fh: Buffer, openFile: number): Promise<void> {
    for (const o of [...this.#owners.values()]) {
      if (o.flock || !o.openFiles.has(openFile) || !o.fh.equals(fh)) continue
      await this.#reclaim
      await this.#unlock(o, 0n, TO_EOF)
    }
  }

  /** Unmount: releases whatever is still held (kept in the journal when the server cannot be told). */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    let failed = 0
    const releaseAll = async (): Promise<void> => {
      for (const o of [...this.#owners.values()]) {
        if (o.ranges.length === 0) continue
        try {
          await this.#unlock(o, 0n, TO_EOF)
        } catch (err) {
          failed++
          this.#o.log(`lock: could not release a lock at unmount (the next mount here releases it): ${(err as Error).message}`)
        }
      }
    }
    // A server that does not answer must not hold the unmount: the journal keeps what is left.
    const done = await Promise.race([releaseAll().then(() => true), sleep(CLOSE_RELEASE_MS).then(() => false)])
    await this.#journal.settled()
    if (!done) this.#o.log(`lock: the lock manager did not answer within ${CLOSE_RELEASE_MS / 1000} s at unmount; the next mount here releases what is left`)
    else if (failed === 0) this.#journal.remove()
    for (const w of this.#waiters) w.wake?.()
    await this.#grants.remove(this.#tag)
    await this.#client.close()
  }

  // ---- owners ---------------------------------------------------------------------------------

  #owner(fh: Buffer, a: LockArgs, auth: AuthSys): LockOwner {
    let o = this.#owners.get(ownerKey(fh, a.owner, a.flock))
    if (o === undefined) {
      o = this.#newOwner(fh, a, auth)
      this.#owners.set(o.key, o)
    }
    return o
  }

  /** The owner handle: this mount's tag, the kind ('f' flock / 'p' fcntl), the kernel's owner id. */
  #newOwner(fh: Buffer, a: LockArgs, auth: AuthSys): LockOwner {
    const oh = Buffer.alloc(TAG_BYTES + 9)
    this.#tag.copy(oh, 0)
    oh[TAG_BYTES] = a.flock ? 0x66 : 0x70
    oh.writeBigUInt64BE(BigInt.asUintN(64, a.owner), TAG_BYTES + 1)
    this.#svid = this.#svid >= 0x7fffffff ? 1 : this.#svid + 1
    return { key: ownerKey(fh, a.owner, a.flock), fh: Buffer.from(fh), oh, svid: this.#svid, flock: a.flock, auth, ranges: [], openFiles: new Set(), pid: 0 }
  }

  /**
   * F_GETLK's pid for a holder: a process on this mount is one of our owners, and the pid it locked
   * with is what a local file system would report (APUE's lock_test, LTP and pid files read it;
   * 0 would read as "nobody"). Another host's holder has no local pid: 0, as FUSE can say no other.
   */
  #holderPid(h: NlmHolder): number {
    if (!h.oh.subarray(0, TAG_BYTES).equals(this.#tag)) return 0
    for (const o of this.#owners.values()) {
      if (o.svid === h.svid && o.oh.equals(h.oh)) return o.pid
    }
    return 0
  }

  #nlmLock(o: LockOwner, start: bigint, end: bigint): NlmLock {
    return { callerName: this.#o.callerName, fh: o.fh, oh: o.oh, svid: o.svid, ...toNlmRange(start, end) }
  }

  async #unlock(o: LockOwner, start: bigint, end: bigint): Promise<void> {
    if (!overlaps(o.ranges, start, end)) return
    this.#stats.unlocks++
    const res = await this.#client.unlock(o.auth, this.#nlmLock(o, start, end))
    // UNLOCK is not refused for grace; anything but GRANTED leaves the server's state unknown.
    if (res.stat !== NLM4_GRANTED) throw new NlmError(res.stat, 'UNLOCK')
    o.ranges = subtract(o.ranges, start, end)
    if (o.ranges.length === 0) this.#owners.delete(o.key)
    this.#saveJournal()
  }

  // ---- blocking -------------------------------------------------------------------------------

  async #pollInterval(): Promise<number> {
    const reg = await this.#grants.ensureRegistered()
    return reg === 'ours' || reg === 'peer' ? POLL_WITH_CALLBACK_MS : POLL_WITHOUT_CALLBACK_MS
  }

  #waitGrant(w: Waiter, ms: number, signal?: AbortSignal): Promise<void> {
    if (w.granted) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        w.wake = null
        resolve()
      }
      const onAbort = (): void => {
        done()
        if (!w.granted) reject(new LockInterruptedError())
      }
      const timer = setTimeout(done, ms)
      w.wake = done
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  async #onGrant(g: Grant, asMsg: boolean): Promise<number> {
    const fhHex = g.lock.fh.toString('hex')
    const ohHex = g.lock.oh.toString('hex')
    let match: Waiter | undefined
    for (const w of this.#waiters) {
      if (!w.granted && w.fhHex === fhHex && w.ohHex === ohHex && w.svid === g.lock.svid) {
        match = w
        break
      }
    }
    const stat = match ? NLM4_GRANTED : NLM4_DENIED
    if (match) {
      match.granted = true
      this.#stats.grantCallbacks++
      match.wake?.()
    }
    if (asMsg) {
      // The server holds the lock "granting" until this arrives; DENIED makes it let go.
      this.#client.grantedRes(match?.auth ?? this.#o.mountAuth, g.cookie, stat).catch((err: Error) => this.#o.log(`lock: GRANTED_RES not delivered: ${err.message}`))
    }
    return stat
  }

  // ---- recovery -------------------------------------------------------------------------------

  #onServerDrop(): void {
    if (this.#closed || this.#reclaim !== null) return
    const held = this.#heldRanges()
    if (held === 0) return
    this.#o.log(`lock: the lock manager at ${this.#o.host}:${this.#o.nlmPort} closed the connection; reclaiming ${held} lock range(s)`)
    this.#reclaim = this.#reclaimAll().finally(() => {
      this.#reclaim = null
    })
  }

  async #reclaimAll(): Promise<void> {
    for (const o of [...this.#owners.values()]) {
      for (const r of [...o.ranges]) {
        if (this.#closed) return
        const kept = await this.#reclaimOne(o, r.start, r.end, r.exclusive)
        if (kept) {
          this.#stats.reclaimed++
        } else {
          this.#stats.lost++
          o.ranges = subtract(o.ranges, r.start, r.end)
          this.#o.log(`lock: LOST a ${r.exclusive ? 'write' : 'read'} lock on bytes ${r.start}-${r.end === TO_EOF ? 'EOF' : r.end}: the restarted server gave it to another owner`)
        }
      }
      if (o.ranges.length === 0) this.#owners.delete(o.key)
    }
    this.#saveJournal()
  }

  /** One range back after a drop: a reclaim in the grace period, else (no restart after all, or grace over) a plain LOCK. */
  async #reclaimOne(o: LockOwner, start: bigint, end: bigint, exclusive: boolean): Promise<boolean> {
    let reclaim = true
    for (;;) {
      if (this.#closed) return true
      let stat: number
      try {
        stat = (await this.#client.lock(o.auth, { block: false, exclusive, reclaim }, this.#nlmLock(o, start, end), this.#o.nsmState)).stat
      } catch (err) {
        // Still down or not yet listening: keep trying while we hold it.
        this.#o.log(`lock: reclaim waits for the server: ${(err as Error).message}`)
        await sleep(GRACE_RETRY_MS)
        continue
      }
      if (stat === NLM4_GRANTED) return true
      if (stat === NLM4_DENIED_GRACE_PERIOD && reclaim) {
        reclaim = false
        continue
      }
      if (stat === NLM4_DENIED_GRACE_PERIOD) {
        await sleep(GRACE_RETRY_MS)
        reclaim = true
        continue
      }
      return false
    }
  }

  #saveJournal(): void {
    const locks: JournalState['locks'] = []
    for (const o of this.#owners.values()) {
      for (const r of o.ranges) {
        const { offset, len } = toNlmRange(r.start, r.end)
        locks.push({ fh: o.fh.toString('hex'), oh: o.oh.toString('hex'), svid: o.svid, offset: String(offset), len: String(len), uid: o.auth.uid, gid: o.auth.gid })
      }
    }
    this.#journal.update(locks.length === 0 ? null : { host: this.#o.host, callerName: this.#o.callerName, locks })
  }

  async #releaseLeftovers(): Promise<void> {
    let prev: JournalState | undefined
    try {
      prev = this.#journal.read()
    } catch (err) {
      this.#o.log(`lock: ${(err as Error).message}; ignored`)
      this.#journal.remove()
      return
    }
    if (prev === undefined) return
    let released = 0
    for (const l of prev.locks) {
      const auth: AuthSys = { ...this.#o.mountAuth, uid: l.uid, gid: l.gid, gids: [l.gid] }
      const lock: NlmLock = { callerName: prev.callerName, fh: Buffer.from(l.fh, 'hex'), oh: Buffer.from(l.oh, 'hex'), svid: l.svid, offset: BigInt(l.offset), len: BigInt(l.len) }
      try {
        const res = await this.#client.unlock(auth, lock)
        if (res.stat === NLM4_GRANTED) released++
      } catch (err) {
        this.#o.log(`lock: could not release a lock left by a previous run: ${(err as Error).message}`)
        return
      }
    }
    this.#journal.remove()
    this.#o.log(`lock: released ${released} lock(s) a previous run of this mount left on the server`)
  }
}

function ownerKey(fh: Buffer, owner: bigint, flock: boolean): string {
  return `${fh.toString('hex')}/${flock ? 'f' : 'p'}${owner}`
}

function checkArgs(a: LockArgs): void {
  if (a.type !== F_RDLCK && a.type !== F_WRLCK && a.type !== F_UNLCK) throw new LockRequestError(`lock type ${a.type}`)
  if (a.start < 0n || a.end < a.start || a.end > TO_EOF) throw new LockRequestError(`lock range ${a.start}-${a.end}`)
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new LockInterruptedError())
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(t)
      reject(new LockInterruptedError())
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

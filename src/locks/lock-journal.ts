// What a mount holds on the server, on disk, so that the next run of the daemon can release the
// locks a killed one left behind (UNLOCK with the very owner handles it used). The server would
// otherwise keep them until the client host reboots and its status monitor says so. Written on
// every change, renamed into place; no fsync: it covers a crash of the daemon, not of the host
// (a host reboot is what SM_NOTIFY is for). Written in the background, changes coalesced: a lock
// and unlock pair must not pay two file replacements (measured: they tripled its cost), and a
// daemon killed in the millisecond between a grant and its record is the rare case the next
// reboot still covers.
import { mkdirSync, readFileSync, unlinkSync } from 'node:fs'
import { rename, unlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export interface JournalLock {
  fh: string
  oh: string
  svid: number
  offset: string
  len: string
  uid: number
  gid: number
}

export interface JournalState {
  /** Where the locks are: the server and its lock manager port at the time. */
  host: string
  callerName: string
  locks: JournalLock[]
}

export class LockJournal {
  constructor(readonly path: string) {}

  /** The previous run's state, or undefined when there is none (or it cannot be read: logged by the caller). */
  read(): JournalState | undefined {
    let text: string
    try {
      text = readFileSync(this.path, 'utf8')
    } catch {
      return undefined
    }
    const v = JSON.parse(text) as JournalState
    if (typeof v !== 'object' || v === null || !Array.isArray(v.locks) || typeof v.callerName !== 'string') {
      throw new Error(`lock journal ${this.path} is not a journal`)
    }
    for (const l of v.locks) {
      if (typeof l.fh !== 'string' || typeof l.oh !== 'string' || !Number.isInteger(l.svid) || !/^\d+$/.test(String(l.offset)) ||
        !/^\d+$/.test(String(l.len)) || !Number.isInteger(l.uid) || !Number.isInteger(l.gid)) {
        throw new Error(`lock journal ${this.path} has a malformed entry`)
      }
    }
    return v
  }

  #latest: JournalState | null | undefined
  #writing: Promise<void> | null = null

  /** Records STATE (null: nothing held) soon; the last one asked for is what ends up on disk. */
  update(state: JournalState | null): void {
    this.#latest = state
    this.#writing ??= this.#flush()
  }

  /** Resolves once what update() was asked is on disk (or failed: ONERROR was told). */
  settled(): Promise<void> {
    return this.#writing ?? Promise.resolve()
  }

  onError: (err: Error) => void = () => undefined

  async #flush(): Promise<void> {
    const dir = dirname(this.path)
    const tmp = join(dir, `.${this.path.slice(dir.length + 1)}.${process.pid}.tmp`)
    while (this.#latest !== undefined) {
      const state = this.#latest
      this.#latest = undefined
      try {
        if (state === null) {
          await unlink(this.path).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err })
        } else {
          mkdirSync(dir, { recursive: true, mode: 0o700 })
          await writeFile(tmp, JSON.stringify(state), { mode: 0o600 })
          await rename(tmp, this.path)
        }
      } catch (err) {
        this.onError(err as Error)
      }
    }
    this.#writing = null
  }

  remove(): void {
    try {
      unlinkSync(this.path)
    } catch {
      // Already gone.
    }
  }
}

// Failed file operations of one mount, as a daemon reports them: every one counted (metrics), the
// everyday ones logged at debug, the rest at warn but at most once per op and errno in a period,
// with the number kept quiet since, so an application looping on a failure cannot flood the log.
import type { Logger } from 'pino'
import { errnoName } from '../engine/index.js'

/**
 * Errors an application meets in normal work (a lookup of a missing name, a refused permission):
 * counted, logged at debug. Anything else is worth a warning.
 */
const ANSWERS = new Set(['ENOENT', 'EEXIST', 'ENOTEMPTY', 'EACCES', 'EPERM', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'ENODATA', 'ENOSYS', 'EOPNOTSUPP', 'ENOTSUP', 'EXDEV', 'EINVAL', 'ELOOP', 'ERANGE', 'EROFS', 'ENOTTY', 'EBADF',
  // A lock held by someone else (F_SETLK, LOCK_NB), a lock wait ended by a signal.
  'EAGAIN', 'EWOULDBLOCK', 'EINTR'])
/** At most one warning per op and errno in this period; the rest are counted into the next. */
const WARN_EVERY_MS = 10_000

export class OpErrorLog {
  /** "op errno" -> count, over the daemon's life. */
  readonly counts = new Map<string, number>()
  /** Last warning time and calls not logged since, per "op errno". */
  readonly #warned = new Map<string, { at: number; quiet: number }>()

  constructor(private readonly log: Logger) {}

  record(op: string, errno: number): void {
    const name = errnoName(errno)
    const key = `${op} ${name}`
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
    if (ANSWERS.has(name)) {
      this.log.debug({ event: 'op-error', op, errno: name }, `${op} failed: ${name}`)
      return
    }
    const now = Date.now()
    const w = this.#warned.get(key)
    if (w !== undefined && now - w.at < WARN_EVERY_MS) {
      w.quiet++
      return
    }
    const quiet = w?.quiet ?? 0
    this.#warned.set(key, { at: now, quiet: 0 })
    this.log.warn({ event: 'op-error', op, errno: name, ...(quiet > 0 ? { suppressed: quiet } : {}) },
      `${op} failed: ${name}${quiet > 0 ? ` (and ${quiet} more since the last warning)` : ''}`)
  }
}

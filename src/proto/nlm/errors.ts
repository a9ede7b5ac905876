// nlm4_stats → errno, as the Linux NFS client reports them to the application.
import {
  NLM4_DEADLCK, NLM4_DENIED, NLM4_DENIED_GRACE_PERIOD, NLM4_DENIED_NOLOCKS, NLM4_FAILED, NLM4_FBIG, NLM4_ROFS,
  NLM4_STALE_FH,
} from '../../xdr/lock-codec.js'

const ERRNO: Record<number, [string, number]> = {
  [NLM4_DENIED]: ['NLM4_DENIED: held by another owner', 11], // EAGAIN
  [NLM4_DENIED_NOLOCKS]: ['NLM4_DENIED_NOLOCKS: the server cannot take locks now (is its rpc.statd running?)', 37], // ENOLCK
  [NLM4_DENIED_GRACE_PERIOD]: ['NLM4_DENIED_GRACE_PERIOD: the server is in its grace period', 37],
  [NLM4_DEADLCK]: ['NLM4_DEADLCK: deadlock', 35], // EDEADLK
  [NLM4_ROFS]: ['NLM4_ROFS: read-only file system', 30], // EROFS
  [NLM4_STALE_FH]: ['NLM4_STALE_FH: stale file handle', 116], // ESTALE
  [NLM4_FBIG]: ['NLM4_FBIG: range beyond what the server supports', 27], // EFBIG
  [NLM4_FAILED]: ['NLM4_FAILED: the server failed the lock request', 37],
}

/** A lock request the server answered with a status other than NLM4_GRANTED (or BLOCKED). */
export class NlmError extends Error {
  readonly code = 'ERR_NLM4_STATUS'
  readonly errno: number
  constructor(readonly stat: number, op: string) {
    const [text, errno] = ERRNO[stat] ?? [`nlm4_stats ${stat}`, 37]
    super(`NLM ${op}: ${text}`)
    this.name = 'NlmError'
    this.errno = errno
  }
}

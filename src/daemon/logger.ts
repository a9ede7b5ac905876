// The daemon's log: one JSON object per line (pino) for log shippers, or `--log-format text` for
// people. Mount-level lines (src/mount's Log) become records with the volume's name and the line's
// fields. Nothing here ever receives a password: volume options cannot hold one (options.ts) and
// the LDAP code never puts one in an error.
import pino, { type Logger } from 'pino'
import type { Log, LogFields } from '../mount/lifecycle.js'

export type LogFormat = 'json' | 'text'
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export function createLogger(format: LogFormat, level: LogLevel, write: (line: string) => void): Logger {
  const stream = format === 'json' ? { write } : { write: (json: string) => write(textLine(json)) }
  return pino({
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, stream)
}

const TEXT_SKIP = new Set(['level', 'time', 'pid', 'msg'])

/** `TIME LEVEL [volume] message key=value ...` from one pino JSON record. */
function textLine(json: string): string {
  let rec: Record<string, unknown>
  try {
    rec = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json
  }
  const extra = Object.entries(rec)
    .filter(([k]) => !TEXT_SKIP.has(k) && k !== 'volume')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
  const volume = typeof rec.volume === 'string' ? ` [${rec.volume}]` : ''
  const line = `${String(rec.time)} ${String(rec.level).toUpperCase()}${volume} ${String(rec.msg ?? '')}${extra.length > 0 ? ' ' + extra.join(' ') : ''}`
  // One record, one line, whatever a value holds.
  return line.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`) + '\n'
}

/** A mount's Log writing to LOGGER (a volume's child logger): the line is the message, fields go along. */
export function mountLog(logger: Logger): Log {
  return (line: string, fields?: LogFields) => {
    const { level = 'info', ...rest } = fields ?? {}
    logger[level](rest, line)
  }
}

/**
 * A name or ID from a request, fit for a message: printable ASCII as is, anything else (newlines
 * that would forge log lines, megabytes of junk) quoted and cut short.
 */
export function shown(text: string): string {
  if (/^[\x20-\x7e]{1,128}$/.test(text)) return text
  return JSON.stringify(text.slice(0, 64)) + (text.length > 64 ? '...' : '')
}

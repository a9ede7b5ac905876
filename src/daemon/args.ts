// Argument values every daemon command takes alike, with the same error texts.
import { UsageError } from '../mount/options.js'

/** An absolute path for option --NAME, without trailing slashes. */
export function absoluteArg(name: string, v: string): string {
  if (!v.startsWith('/')) throw new UsageError(`'--${name}' must be an absolute path`)
  return v.length > 1 ? v.replace(/\/+$/, '') : v
}

/** --metrics HOST:PORT, with [v6]:PORT for IPv6. */
export function parseListen(v: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v)
  const port = m ? Number(m[3]) : NaN
  if (!m || !(port >= 1 && port <= 65535)) throw new UsageError(`Invalid '--metrics' address '${v}' (expected HOST:PORT, e.g. 127.0.0.1:9464)`)
  return { host: (m[1] ?? m[2])!, port }
}

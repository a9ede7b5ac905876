// `mapnfs serve` arguments. Volume options are not here: they come with each Create call.
import { UsageError } from '../mount/options.js'
import type { LogFormat, LogLevel } from '../daemon/logger.js'
import { absoluteArg as absolute, parseListen } from '../daemon/args.js'

export interface ServeOptions {
  socket: string
  state: string
  mountRoot: string
  metrics?: { host: string; port: number }
  logFormat: LogFormat
  logLevel: LogLevel
}

export const SERVE_DEFAULTS = {
  socket: '/run/docker/plugins/mapnfs.sock',
  state: '/var/lib/mapnfs/state.json',
  mountRoot: '/var/lib/mapnfs/volumes',
} as const

const VALUED = new Set(['socket', 'state', 'mount-root', 'metrics', 'log-format', 'log-level'])

export function parseServeArgs(args: string[]): ServeOptions {
  const out: ServeOptions = { ...SERVE_DEFAULTS, logFormat: 'json', logLevel: 'info' }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument '${a}' (mapnfs serve takes only --options; see mapnfs --help)`)
    const eq = a.indexOf('=')
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq)
    if (!VALUED.has(name)) throw new UsageError(`unknown option '--${name}' for mapnfs serve`)
    const value = eq < 0 ? args[++i] : a.slice(eq + 1)
    if (value === undefined || value === '') throw new UsageError(`option '--${name}' needs a value`)
    switch (name) {
      case 'socket': out.socket = absolute(name, value); break
      case 'state': out.state = absolute(name, value); break
      case 'mount-root': out.mountRoot = absolute(name, value); break
      case 'metrics': out.metrics = parseListen(value); break
      case 'log-format':
        if (value !== 'json' && value !== 'text') throw new UsageError("Invalid '--log-format' (json or text)")
        out.logFormat = value
        break
      case 'log-level':
        if (!['debug', 'info', 'warn', 'error'].includes(value)) throw new UsageError("Invalid '--log-level' (debug, info, warn or error)")
        out.logLevel = value as LogLevel
        break
    }
  }
  return out
}

export const SERVE_HELP = `
mapnfs serve: one daemon for many mounts, driven over the Docker volume plugin API
  Listens on a unix socket (mode 0600, root only) for /Plugin.Activate and /VolumeDriver.*
  (Create, Remove, Mount, Unmount, Path, Get, List, Capabilities; scope local). dockerd finds
  it as the volume driver NAME when the socket is /run/docker/plugins/NAME.sock:
    docker volume create -d mapnfs -o source=nfs://HOST/EXPORT -o uid=1234 -o gid=1234 VOL
  Volume options are the mount options above, as -o NAME=VALUE (-o FLAG for flags), plus
  source=SOURCE (or share=). Not taken: password (docker volume inspect shows options; use
  password-file=FILE, an absolute path), password-file=- and mount (the daemon decides:
  MOUNT_ROOT/VOL). A volume is mounted on the first Mount and unmounted when the last caller
  ID that mounted it unmounts it. Errors come back in the reply's Err with the texts above.
  SIGTERM/SIGINT unmount every volume (open files commit first) and exit 0; a restarted
  daemon mounts again every volume that some caller still held, and containers that ran
  through the restart get the new mount in place of the dead one (in their own mount
  namespaces; read-only stays read-only). SIGUSR2 logs each mounted volume's stats line.
  --socket PATH      Unix socket to serve on (default ${SERVE_DEFAULTS.socket}).
  --state PATH       Volumes, their options and who holds them (default ${SERVE_DEFAULTS.state});
                     JSON, written atomically, mode 0600; holds password file paths, never passwords.
  --mount-root DIR   Volumes are mounted at DIR/VOL (default ${SERVE_DEFAULTS.mountRoot}).
  --metrics HOST:PORT
                     Serve Prometheus metrics on http://HOST:PORT/metrics (default: off). Per volume:
                     NFS calls, errors and latency by procedure, bytes read and written, calls in
                     flight, retransmits, reconnects, rewritten chunks, uncommitted bytes; process
                     RSS and CPU. See README, Operating mapnfs serve.
  --log-format FMT   json (default): one JSON object per line on stdout (pino); text: for people.
  --log-level LEVEL  debug, info (default), warn or error. Failed file operations are logged
                     with volume, op and errno: at warn (at most one per 10 s for each volume, op
                     and errno), except everyday answers such as ENOENT or EACCES (debug).
`

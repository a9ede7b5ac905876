// `mapnfs serve`: the node daemon an orchestrator drives. It owns every volume's mount in this one
// process, answers the Docker volume plugin protocol on a root-only unix socket, mounts again what
// the state file says was mounted, and on SIGTERM/SIGINT unmounts everything before it exits.
import { createServer, type Server } from 'node:http'
import { MountFailure } from '../mount/lifecycle.js'
import { describeError } from '../mount/describe.js'
import { createLogger } from '../daemon/logger.js'
import { metricsSource, serveMetrics } from '../daemon/metrics.js'
import type { ServeOptions } from './options.js'
import { claimSocket, closeServer, listenPrivately, removeSocket } from '../daemon/unix-socket.js'
import { pluginHandler } from './plugin-api.js'
import { VolumeService } from './volumes.js'

/** Settings LDAP volumes read; the daemon keeps its own copy and drops the service password from its environment. */
const LDAP_ENV = /^(LDAP_|MAPNFS_LDAP_CONFIG$)/

export interface RunningDaemon {
  /** Resolves with the exit code once a signal has stopped the daemon and everything is unmounted. */
  done: Promise<number>
}

export async function runServe(o: ServeOptions, write: (line: string) => void = (l) => process.stdout.write(l)): Promise<RunningDaemon> {
  if (process.getuid?.() !== 0) throw new MountFailure('permission denied: mapnfs serve must run as root (it mounts FUSE file systems and owns a root-only socket)')
  const ldapEnv: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (LDAP_ENV.test(k)) ldapEnv[k] = v
  // Children (fusermount) need not inherit the service password.
  delete process.env.LDAP_SVC_PASS

  const logger = createLogger(o.logFormat, o.logLevel, write)
  // First: a second daemon on the same socket must not touch the first one's volumes.
  await claimSocket(o.socket)
  const volumes = new VolumeService({ statePath: o.state, mountRoot: o.mountRoot, logger, ldapEnv })
  // Before the socket opens: a call for a volume being mounted again waits for that mount.
  const restored = volumes.restore()
  const api = createServer(pluginHandler(volumes, logger))
  try {
    await listenPrivately(api, o.socket)
  } catch (err) {
    await volumes.shutdown()
    throw err
  }
  let metrics: Server | null = null
  try {
    if (o.metrics !== undefined) metrics = await serveMetrics(metricsSource(() => volumes.metrics()), o.metrics.host, o.metrics.port)
  } catch (err) {
    await closeServer(api)
    removeSocket(o.socket)
    await volumes.shutdown()
    throw new MountFailure(`cannot serve metrics on ${o.metrics!.host}:${o.metrics!.port}: ${(err as NodeJS.ErrnoException).code ?? describeError(err)}`)
  }
  logger.info({ event: 'serve', socket: o.socket, state: o.state, mountRoot: o.mountRoot, ...(o.metrics ? { metrics: `${o.metrics.host}:${o.metrics.port}` } : {}), volumes: volumes.list().length },
    `serving the Docker volume plugin API on ${o.socket}`)

  const onStats = (): void => volumes.logStats()
  process.on('SIGUSR2', onStats)
  const done = new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) return
      stopping = true
      logger.info({ event: 'stop', signal }, `${signal}: unmounting every volume`)
      void (async () => {
        api.close()
        api.closeIdleConnections()
        // shutdown() first: it fails the remounts still starting instead of waiting them out.
        await volumes.shutdown()
        await restored
        api.closeAllConnections()
        if (metrics !== null) await closeServer(metrics)
        removeSocket(o.socket)
        process.off('SIGUSR2', onStats)
        process.off('SIGTERM', onTerm)
        process.off('SIGINT', onInt)
        logger.info({ event: 'stopped' }, 'stopped')
        resolve(0)
      })()
    }
    const onTerm = (): void => stop('SIGTERM')
    const onInt = (): void => stop('SIGINT')
    process.on('SIGTERM', onTerm)
    process.on('SIGINT', onInt)
  })
  return { done }
}

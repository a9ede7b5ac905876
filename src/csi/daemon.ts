// `mapnfs csi`: the Kubernetes CSI plugin. One process serves Identity, and Node (publishing
// volumes as FUSE mounts at kubelet's target paths) and/or Controller (a directory per volume on
// an export), over gRPC on a root-only unix socket. Published targets survive the plugin: a
// restarted one mounts them again and gives running pods the new mount; SIGTERM unmounts.
import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { MountFailure } from '../mount/lifecycle.js'
import { describeError } from '../mount/describe.js'
import { createLogger } from '../daemon/logger.js'
import { metricsSource, serveMetrics } from '../daemon/metrics.js'
import { claimSocket, closeServer, removeSocket } from '../daemon/unix-socket.js'
import { controllerService } from './controller-service.js'
import { CsiServer } from './grpc-server.js'
import { identityService } from './identity-service.js'
import { nodeService } from './node-service.js'
import type { CsiOptions } from './options.js'
import { Publications } from './publications.js'

const LDAP_ENV = /^(LDAP_|MAPNFS_LDAP_CONFIG$)/

export interface RunningCsi {
  /** Resolves with the exit code once a signal has stopped the plugin and everything is unmounted. */
  done: Promise<number>
}

export async function runCsi(o: CsiOptions, write: (line: string) => void = (l) => process.stdout.write(l)): Promise<RunningCsi> {
  if (o.node && process.getuid?.() !== 0) throw new MountFailure('permission denied: the node plugin (mapnfs csi without --no-node) must run as root: it mounts FUSE file systems')
  const ldapEnv: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (LDAP_ENV.test(k)) ldapEnv[k] = v
  delete process.env.LDAP_SVC_PASS
  const started = Date.now()
  const logger = createLogger(o.logFormat, o.logLevel, write)
  await claimSocket(o.endpoint)

  const publications = o.node ? new Publications({ statePath: o.state, logger, ldapEnv }) : null
  let ready = false
  const restored = (publications?.restore() ?? Promise.resolve()).then(() => {
    ready = true
    logger.info({ event: 'ready', ms: Date.now() - started }, 'ready (published volumes mounted again)')
  })
  const server = new CsiServer(logger)
  server.add('Identity', identityService({ driverName: o.driverName, version: packageVersion(), controller: o.controller, ready: () => ready }))
  if (publications !== null) server.add('Node', nodeService({ nodeId: o.nodeId, mountRoot: o.mountRoot }, publications))
  if (o.controller) server.add('Controller', controllerService())
  try {
    await server.listen(o.endpoint)
  } catch (err) {
    await publications?.shutdown()
    throw new MountFailure(`cannot listen on ${o.endpoint}: ${(err as NodeJS.ErrnoException).code ?? describeError(err)}`)
  }
  let metrics: Server | null = null
  try {
    if (o.metrics !== undefined) metrics = await serveMetrics(metricsSource(() => publications?.metrics() ?? []), o.metrics.host, o.metrics.port)
  } catch (err) {
    await server.close(0)
    removeSocket(o.endpoint)
    await publications?.shutdown()
    throw new MountFailure(`cannot serve metrics on ${o.metrics!.host}:${o.metrics!.port}: ${(err as NodeJS.ErrnoException).code ?? describeError(err)}`)
  }
  const services = ['Identity', ...(o.node ? ['Node'] : []), ...(o.controller ? ['Controller'] : [])]
  logger.info({ event: 'serve', endpoint: o.endpoint, driver: o.driverName, node: o.nodeId, services, state: o.state, mountRoot: o.mountRoot, ...(o.metrics ? { metrics: `${o.metrics.host}:${o.metrics.port}` } : {}), published: publications?.count() ?? 0 },
    `serving CSI ${services.join(', ')} as ${o.driverName} on ${o.endpoint}`)

  const onStats = (): void => publications?.logStats()
  process.on('SIGUSR2', onStats)
  const done = new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) return
      stopping = true
      logger.info({ event: 'stop', signal }, `${signal}: unmounting every published volume`)
      void (async () => {
        const closing = server.close()
        await publications?.shutdown()
        await restored
        await closing
        if (metrics !== null) await closeServer(metrics)
        removeSocket(o.endpoint)
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

function packageVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'mapnfs' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // Next candidate.
    }
  }
  return 'unknown'
}

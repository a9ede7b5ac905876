// `mapnfs csi` arguments. Volume options are not here: they come with each publish (volume_context,
// mount_flags) or with the StorageClass parameters of CreateVolume.
import { UsageError } from '../mount/options.js'
import type { LogFormat, LogLevel } from '../daemon/logger.js'
import { absoluteArg as absolute, parseListen } from '../daemon/args.js'

export interface CsiOptions {
  /** Unix socket path (from unix:///PATH). */
  endpoint: string
  nodeId: string
  driverName: string
  state: string
  /** Every target path must lie under this directory (kubelet's --root-dir). */
  mountRoot: string
  controller: boolean
  /** Node service on (default); off for a controller-only deployment. */
  node: boolean
  metrics?: { host: string; port: number }
  logFormat: LogFormat
  logLevel: LogLevel
}

export const CSI_DEFAULTS = {
  driverName: 'csi.mapnfs.io',
  state: '/var/lib/mapnfs/csi-state.json',
  mountRoot: '/var/lib/kubelet',
} as const

const VALUED = new Set(['endpoint', 'node-id', 'driver-name', 'state', 'mount-root', 'metrics', 'log-format', 'log-level'])
const FLAGS = new Set(['controller', 'no-node'])
/** DNS notation (RFC 1035 labels), as the CSI spec asks of a driver name; at most 63 characters. */
const DRIVER_NAME = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

export function parseCsiArgs(args: string[]): CsiOptions {
  let endpoint: string | undefined
  let nodeId: string | undefined
  const out: Omit<CsiOptions, 'endpoint' | 'nodeId'> = { ...CSI_DEFAULTS, controller: false, node: true, logFormat: 'json', logLevel: 'info' }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument '${a}' (mapnfs csi takes only --options; see mapnfs --help)`)
    const eq = a.indexOf('=')
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq)
    if (FLAGS.has(name)) {
      if (eq >= 0) throw new UsageError(`option '--${name}' takes no value`)
      if (name === 'controller') out.controller = true
      else out.node = false
      continue
    }
    if (!VALUED.has(name)) throw new UsageError(`unknown option '--${name}' for mapnfs csi`)
    const value = eq < 0 ? args[++i] : a.slice(eq + 1)
    if (value === undefined || value === '') throw new UsageError(`option '--${name}' needs a value`)
    switch (name) {
      case 'endpoint': endpoint = parseEndpoint(value); break
      case 'node-id':
        if (value.length > 256 || !/^[\x21-\x7e]+$/.test(value)) throw new UsageError("Invalid '--node-id' (printable, no spaces, at most 256 characters)")
        nodeId = value
        break
      case 'driver-name':
        if (!DRIVER_NAME.test(value)) throw new UsageError(`Invalid '--driver-name' '${value}' (domain name notation, lower case, at most 63 characters)`)
        out.driverName = value
        break
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
  if (endpoint === undefined) throw new UsageError("mapnfs csi needs '--endpoint unix:///PATH' (the socket kubelet and the sidecars talk to)")
  if (!out.controller && !out.node) throw new UsageError("'--no-node' needs '--controller' (otherwise there is nothing to serve)")
  if (nodeId === undefined) {
    if (out.node) throw new UsageError("mapnfs csi needs '--node-id NAME' (the Kubernetes node name) for the node service")
    nodeId = ''
  }
  return { ...out, endpoint, nodeId }
}

/** unix:///abs/path (or unix:/abs/path), as CSI_ENDPOINT is written; TCP is not offered (no authentication). */
function parseEndpoint(v: string): string {
  const m = /^unix:\/\/(\/.+)$/.exec(v) ?? /^unix:(\/[^/].*)$/.exec(v)
  if (m === null) throw new UsageError(`Invalid '--endpoint' '${v}' (expected unix:///PATH/csi.sock; TCP endpoints are not served)`)
  return m[1]!.length > 1 ? m[1]!.replace(/\/+$/, '') : m[1]!
}

export const CSI_HELP = `
mapnfs csi: a Kubernetes CSI plugin (CSI v1.12) on a unix socket, gRPC
  mapnfs csi --endpoint unix:///PATH/csi.sock --node-id NODE [--controller] [options]
  Node service: NodePublishVolume mounts the volume at kubelet's target path (no staging),
  as its own mount with its own identity. volume_context (the PV's volumeAttributes) holds
  source=SOURCE and the mount options above (uid, gid, username, cache, readonly, nconnect,
  ...), checked with the same texts; the PV's mountOptions may hold the same options. An
  LDAP password comes only from the Secret that nodePublishSecretRef names (key password;
  username may be there too); it is kept in memory, never in the state file or logs. readonly
  and *_READER_ONLY access modes mount read-only. NodeGetVolumeStats gives statfs of the
  mount, and an abnormal volume condition while the NFS server is not responding.
  Controller service (--controller): CreateVolume makes a subdirectory of an export, as
  uid:gid so the server owns it as such; StorageClass parameters: source=nfs://HOST/EXPORT,
  uid, gid, subDir (pattern with \${pvc.metadata.namespace}, \${pvc.metadata.name},
  \${pv.metadata.name}; default NAMESPACE-PVC with external-provisioner
  --extra-create-metadata, else the volume name), onDelete=delete|retain|archive (default
  delete; archive renames to archived-SUBDIR), and mount options for the nodes.
  Published targets are kept in the state file; a restarted plugin mounts them again and
  gives running pods the new mount in place of the dead one. SIGTERM/SIGINT unmount every
  published volume (open files commit first) and exit 0; SIGUSR2 logs each one's stats.
  --endpoint unix:///PATH  The socket (mode 0600) kubelet and the sidecars dial (required).
  --node-id NAME     This node's name, as NodeGetInfo reports it (required for the node service).
  --controller       Serve the Controller service too.
  --no-node          Serve no Node service (a controller-only deployment; needs --controller).
  --driver-name NAME CSI driver name (default ${CSI_DEFAULTS.driverName}); the CSIDriver object's name.
  --state PATH       Published targets, their options and mounts (default ${CSI_DEFAULTS.state}).
  --mount-root DIR   Target paths must be under DIR (default ${CSI_DEFAULTS.mountRoot}, kubelet's root).
  --metrics HOST:PORT, --log-format json|text, --log-level LEVEL
                     As for mapnfs serve; series are labelled volume (the volume ID) and target.
`

// What a NodePublishVolume asks for, checked and turned into mount options. The checks run in the
// spec's order (every missing field is INVALID_ARGUMENT before any lookup); the options are the
// ones `mapnfs mount` and `serve` take, from the same parser with the same error texts.
import { realpathSync } from 'node:fs'
import { basename, dirname, isAbsolute, normalize } from 'node:path'
import { parseVolumeOptions, type MountOptions } from '../mount/options.js'
import { describeError } from '../mount/describe.js'
import { invalid } from './errors.js'
import type { Message } from './grpc-server.js'

/** Keys kubelet (podInfoOnMount) and external-provisioner add to volume_context: facts, not options. */
const CO_PREFIXES = ['csi.storage.k8s.io/', 'storage.kubernetes.io/']
const SECRET_KEYS = new Set(['password', 'username'])
const READER_ONLY = new Set(['SINGLE_NODE_READER_ONLY', 'MULTI_NODE_READER_ONLY'])
/** CSI asks plugins to take paths of at least 128 bytes; PATH_MAX bounds them. */
const MAX_PATH = 4095

export interface PodInfo {
  namespace?: string
  name?: string
  uid?: string
}

export interface PublishRequest {
  volumeId: string
  targetPath: string
  /** volume_context less the CO's keys, with mount_flags merged in: what the mount is made from. */
  opts: Record<string, string>
  readonly: boolean
  pod: PodInfo
  /** The LDAP password from the request's secrets; held in memory only. */
  password?: string
  /** Parsed options (mount point = target). */
  mount: MountOptions
}

export function requireString(req: Message, field: string, what: string): string {
  const v = req[field]
  if (typeof v !== 'string' || v === '') throw invalid(`${field} is missing (${what})`)
  return v
}

/** The target path, absolute, normalised and under MOUNT_ROOT (a caller of the socket must not mount over /etc). */
export function checkTargetPath(raw: string, mountRoot: string): string {
  if (!isAbsolute(raw)) throw invalid(`target_path must be an absolute path, not ${JSON.stringify(raw.slice(0, 200))}`)
  if (raw.length > MAX_PATH || raw.includes('\0')) throw invalid('target_path is too long or holds a NUL byte')
  const real = targetKey(raw)
  let root = mountRoot
  try {
    root = realpathSync(mountRoot)
  } catch {
    // Checked as given.
  }
  if (!real.startsWith(root + '/')) throw invalid(`target_path ${real} is outside ${mountRoot} (mapnfs csi --mount-root)`)
  return real
}

/**
 * How a target path is known: normalised, with its parent's real path (a symbolic link under the
 * root must not lead a mount elsewhere, and two spellings of one target are one target).
 */
export function targetKey(raw: string): string {
  const path = normalize(raw).replace(/\/+$/, '')
  let parent: string
  try {
    parent = realpathSync(dirname(path))
  } catch {
    parent = dirname(path)
  }
  return `${parent === '/' ? '' : parent}/${basename(path)}`
}

/** The volume_capability: present, a mount (not block), with a known access mode. */
export function checkCapability(cap: unknown, field = 'volume_capability'): { readerOnly: boolean; fsType: string; flags: string[] } {
  if (cap === null || typeof cap !== 'object') throw invalid(`${field} is missing`)
  const c = cap as { block?: unknown; mount?: { fs_type?: string; mount_flags?: string[] } | null; access_mode?: { mode?: string } | null }
  if (c.block !== null && c.block !== undefined) throw invalid(`${field}: block access is not offered (a mapnfs volume is a file system: use a mount volume)`)
  if (c.mount === null || c.mount === undefined) throw invalid(`${field} has no access type (expected mount)`)
  const mode = c.access_mode?.mode
  if (mode === undefined || mode === 'UNKNOWN') throw invalid(`${field} has no access mode`)
  const fsType = c.mount.fs_type ?? ''
  if (fsType !== '' && fsType !== 'nfs' && fsType !== 'mapnfs') throw invalid(`${field}: fs_type ${JSON.stringify(fsType.slice(0, 64))} is not offered (leave it empty, or nfs)`)
  return { readerOnly: READER_ONLY.has(mode), fsType, flags: c.mount.mount_flags ?? [] }
}

export function parsePublish(req: Message, mountRoot: string): PublishRequest {
  const volumeId = requireString(req, 'volume_id', 'the volume to publish')
  const rawTarget = requireString(req, 'target_path', 'where kubelet wants the volume')
  const cap = checkCapability(req.volume_capability)
  const targetPath = checkTargetPath(rawTarget, mountRoot)

  const context = (req.volume_context ?? {}) as Record<string, string>
  const opts: Record<string, string> = {}
  const pod: PodInfo = {}
  for (const [k, v] of Object.entries(context)) {
    if (CO_PREFIXES.some((p) => k.startsWith(p))) {
      if (k === 'csi.storage.k8s.io/pod.namespace') pod.namespace = v
      else if (k === 'csi.storage.k8s.io/pod.name') pod.name = v
      else if (k === 'csi.storage.k8s.io/pod.uid') pod.uid = v
      continue
    }
    if (k === 'password') throw invalid("a password must not be given in the volume attributes (anyone who may read the PersistentVolume sees them); put it in the Secret that nodePublishSecretRef names, key 'password'")
    if (k === 'mount') throw invalid("option 'mount' is not a volume attribute: kubelet decides where the volume is mounted")
    opts[k] = v
  }
  // PV mountOptions: `name` or `name=value`, the same options as the attributes.
  for (const flag of cap.flags) {
    const eq = flag.indexOf('=')
    const name = eq < 0 ? flag : flag.slice(0, eq)
    const value = eq < 0 ? '' : flag.slice(eq + 1)
    if (name === 'password' || name === 'mount') throw invalid(`option '${name}' is not taken from mountOptions`)
    if (name in opts && opts[name] !== value) throw invalid(`option '${name}' is given twice, differently (volume attributes and mountOptions)`)
    opts[name] = value
  }

  const secrets = (req.secrets ?? {}) as Record<string, string>
  for (const k of Object.keys(secrets)) {
    if (!SECRET_KEYS.has(k)) throw invalid(`the node publish secret has a key ${JSON.stringify(k.slice(0, 64))} mapnfs does not take (expected password, and username if not in the volume attributes)`)
  }
  if (secrets.username !== undefined) {
    if (opts.username !== undefined && opts.username !== secrets.username) throw invalid('username differs between the volume attributes and the secret')
    opts.username = secrets.username
  }
  const password = secrets.password
  const readonly = req.readonly === true || cap.readerOnly
  if (readonly) opts.ro = ''

  let mount: MountOptions
  try {
    mount = parseVolumeOptions(opts, targetPath, { password: password !== undefined })
  } catch (err) {
    throw invalid(describeError(err))
  }
  return { volumeId, targetPath, opts, readonly, pod, mount, ...(password !== undefined ? { password } : {}) }
}

// CSI Controller: a volume is a subdirectory of an export named by the StorageClass, created
// through NFS with the StorageClass's uid:gid as the caller so the server owns it as U:G (no
// root, no kernel mount), and removed, kept or archived when the volume is deleted. Capacity is
// not enforced by NFSv3, so volumes report it as unknown (0), as the spec allows for NFS shares.
import { parseSource, parseVolumeOptions, type Source } from '../mount/options.js'
import { parseId } from '../identity/index.js'
import { describeError } from '../mount/describe.js'
import { ExportDirError, ExportDirs } from './export-dirs.js'
import { alreadyExists, Code, CsiError, invalid, notFound } from './errors.js'
import type { Handler, Message } from './grpc-server.js'
import { checkCapability, requireString } from './publish-request.js'
import { formatVolumeId, isSubdirName, ON_DELETE, parseVolumeId, subdirSource, type OnDelete, type ProvisionedVolume } from './volume-id.js'

/** StorageClass parameters this controller reads itself; any other is a mount option for the node. */
const OWN = new Set(['source', 'share', 'uid', 'gid', 'subDir', 'onDelete'])
const META = 'csi.storage.k8s.io/'
const DEFAULT_PATTERN_PVC = '${pvc.metadata.namespace}-${pvc.metadata.name}'
/** Mount options about how to reach the server travel in the volume ID; the rest only to nodes. */
const PORT_OPTIONS = ['nfsport', 'mountport']

export function controllerService(): Record<string, Handler> {
  return {
    ControllerGetCapabilities: async () => ({ capabilities: [{ rpc: { type: 'CREATE_DELETE_VOLUME' } }] }),
    CreateVolume: async (req: Message) => createVolume(req),
    DeleteVolume: async (req: Message) => {
      const id = requireString(req, 'volume_id', 'the volume to delete')
      const v = parseVolumeId(id, parseSource)
      // Not a volume this controller made (or made already gone): nothing to delete, as the spec wants.
      if (v === null) return {}
      await withExport(v, `delete volume ${v.subdir}`, (dirs) => dirs.deleteDir(v.subdir, v.onDelete))
      return {}
    },
    ValidateVolumeCapabilities: async (req: Message) => {
      const id = requireString(req, 'volume_id', 'the volume to check')
      const caps = req.volume_capabilities
      if (!Array.isArray(caps) || caps.length === 0) throw invalid('volume_capabilities is missing')
      const v = parseVolumeId(id, parseSource)
      if (v === null) throw notFound(`no such volume: ${id}`)
      const found = await withExport(v, `look up volume ${v.subdir}`, (dirs) => dirs.stat(v.subdir))
      if (found === null || found.type !== 'dir') throw notFound(`volume ${id} does not exist (no directory ${v.subdir} on the export)`)
      for (const [i, cap] of caps.entries()) {
        try {
          checkCapability(cap, `volume_capabilities[${i}]`)
        } catch (err) {
          return { message: describeError(err) }
        }
      }
      return { confirmed: { volume_context: req.volume_context ?? {}, volume_capabilities: caps, parameters: req.parameters ?? {} } }
    },
  }
}

async function createVolume(req: Message): Promise<Message> {
  const name = requireString(req, 'name', 'the volume name')
  const caps = req.volume_capabilities
  if (!Array.isArray(caps) || caps.length === 0) throw invalid('volume_capabilities is missing')
  caps.forEach((c, i) => checkCapability(c, `volume_capabilities[${i}]`))
  const source = req.volume_content_source as Record<string, unknown> | null
  if (source !== null && source !== undefined && (source.snapshot || source.volume)) throw invalid('volumes from snapshots or other volumes are not offered')
  const range = req.capacity_range as { required_bytes?: string; limit_bytes?: string } | null
  if (range && Number(range.limit_bytes ?? 0) > 0 && Number(range.limit_bytes) < Number(range.required_bytes ?? 0)) {
    throw invalid('capacity_range: limit_bytes is below required_bytes')
  }

  const params = (req.parameters ?? {}) as Record<string, string>
  const v = provisionedVolume(name, params)
  const context = volumeContext(v, params)
  const id = formatVolumeId(v)
  await withExport(v, `create volume ${v.subdir}`, (dirs) => dirs.ensureDir(v.subdir))
  // capacity 0: unknown. external-provisioner records the requested size on the PV.
  return { volume: { volume_id: id, capacity_bytes: '0', volume_context: context } }
}

function provisionedVolume(name: string, params: Record<string, string>): ProvisionedVolume {
  const sourceText = params.source ?? params.share
  if (sourceText === undefined || sourceText === '') throw invalid("StorageClass parameter 'source' is missing (nfs://HOST/EXPORT under which volumes are made)")
  if (params.source !== undefined && params.share !== undefined) throw invalid("give 'source' or 'share', not both")
  if (sourceText.includes('#')) throw invalid("'source' must not contain '#'")
  let exp: Source
  let uid: number
  let gid: number
  try {
    exp = parseSource(sourceText)
    if (params.uid === undefined || params.gid === undefined) throw new CsiError(Code.INVALID_ARGUMENT, "StorageClass parameters 'uid' and 'gid' are required (the identity that owns each volume's directory on the server)")
    uid = parseId('uid', params.uid)
    gid = parseId('gid', params.gid)
    if (params.nfsport !== undefined) exp = { ...exp, port: portOption('nfsport', params.nfsport) }
    if (params.mountport !== undefined) exp = { ...exp, mountPort: portOption('mountport', params.mountport) }
  } catch (err) {
    if (err instanceof CsiError) throw err
    throw invalid(describeError(err))
  }
  const onDelete = (params.onDelete ?? 'delete') as OnDelete
  if (!ON_DELETE.includes(onDelete)) throw invalid(`Invalid 'onDelete' parameter '${params.onDelete}' (delete, retain or archive)`)
  const subdir = expandPattern(params.subDir, name, params)
  return { export: exp, subdir, uid, gid, onDelete }
}

/**
 * The subdirectory name: the `subDir` pattern with ${pvc.metadata.namespace}, ${pvc.metadata.name}
 * and ${pv.metadata.name} (external-provisioner's --extra-create-metadata), by default
 * NAMESPACE-PVC when the provisioner passes them and the CSI volume name (pvc-UID) otherwise.
 */
function expandPattern(pattern: string | undefined, name: string, params: Record<string, string>): string {
  const vars: Record<string, string | undefined> = {
    'pvc.metadata.namespace': params[`${META}pvc/namespace`],
    'pvc.metadata.name': params[`${META}pvc/name`],
    'pv.metadata.name': params[`${META}pv/name`],
  }
  const chosen = pattern ?? (vars['pvc.metadata.name'] !== undefined && vars['pvc.metadata.namespace'] !== undefined ? DEFAULT_PATTERN_PVC : undefined)
  if (chosen === undefined) {
    if (!isSubdirName(name)) throw invalid(`the volume name ${JSON.stringify(name.slice(0, 64))} cannot be a directory name; set the 'subDir' parameter`)
    return name
  }
  const out = chosen.replace(/\$\{([^}]*)\}/g, (_, key: string) => {
    if (!(key in vars)) throw invalid(`'subDir' pattern names \${${key}}; known: \${pvc.metadata.namespace}, \${pvc.metadata.name}, \${pv.metadata.name}`)
    const v = vars[key]
    if (v === undefined) throw invalid(`'subDir' pattern needs \${${key}}, which the provisioner did not pass (run external-provisioner with --extra-create-metadata)`)
    return v
  })
  if (!isSubdirName(out)) throw invalid(`'subDir' gives ${JSON.stringify(out.slice(0, 64))}, not a single directory name (letters, digits, '_', '.', '-')`)
  return out
}

/** What nodes publish the volume with: its subdirectory as the source, its identity, and the StorageClass's mount options. */
function volumeContext(v: ProvisionedVolume, params: Record<string, string>): Record<string, string> {
  const context: Record<string, string> = { source: subdirSource(v.export, v.subdir), uid: String(v.uid), gid: String(v.gid) }
  for (const [k, val] of Object.entries(params)) {
    if (OWN.has(k) || k.startsWith(META) || PORT_OPTIONS.includes(k)) continue
    context[k] = val
  }
  try {
    // The node parses them again; a mistake is better told to whoever made the PVC, now.
    parseVolumeOptions(context, '/')
  } catch (err) {
    throw invalid(`StorageClass parameters: ${describeError(err)}`)
  }
  return context
}

function portOption(name: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw invalid(`Invalid '${name}' option (expected a port number 1-65535)`)
  return Number(v)
}

async function withExport<T>(v: ProvisionedVolume, what: string, fn: (dirs: ExportDirs) => Promise<T>): Promise<T> {
  let dirs: ExportDirs
  try {
    dirs = await ExportDirs.open({ source: v.export, uid: v.uid, gid: v.gid })
  } catch (err) {
    throw exportError(err, what)
  }
  try {
    return await fn(dirs)
  } catch (err) {
    throw exportError(err, what)
  } finally {
    await dirs.close()
  }
}

function exportError(err: unknown, what: string): CsiError {
  if (err instanceof CsiError) return err
  const why = describeError(err)
  if (err instanceof ExportDirError) {
    if (err.code === 'EEXIST') return alreadyExists(why)
    if (err.code === 'EINVAL') return invalid(why)
    if (err.code === 'ETIMEDOUT' || err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH') return new CsiError(Code.UNAVAILABLE, why)
  }
  return new CsiError(Code.INTERNAL, why.includes(what) ? why : `${what}: ${why}`)
}

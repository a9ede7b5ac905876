// A provisioned volume's ID carries everything DeleteVolume needs, since DeleteVolume is given
// nothing else: the export (with its ports), the subdirectory, the identity that owns it and what
// to do on delete. Readable on purpose (`kubectl get pv` shows it):
//   nfs://HOST[:PORT]/EXPORT[?mountport=N]#SUBDIR#UID:GID#ONDELETE
import type { Source } from '../mount/options.js'

export type OnDelete = 'delete' | 'retain' | 'archive'
export const ON_DELETE: readonly OnDelete[] = ['delete', 'retain', 'archive']

export interface ProvisionedVolume {
  export: Source
  subdir: string
  uid: number
  gid: number
  onDelete: OnDelete
}

/** nfs://HOST[:PORT]/PATH[?mountport=N], the form parseSource reads back. */
export function sourceUrl(src: Source, path = src.export): string {
  const host = src.host.includes(':') ? `[${src.host}]` : src.host
  const port = src.port !== undefined ? `:${src.port}` : ''
  const query = src.mountPort !== undefined ? `?mountport=${src.mountPort}` : ''
  return `nfs://${host}${port}${path.split('/').map(encodeURIComponent).join('/')}${query}`
}

export function subdirSource(src: Source, subdir: string): string {
  return sourceUrl(src, `${src.export.replace(/\/+$/, '')}/${subdir}`)
}

export function formatVolumeId(v: ProvisionedVolume): string {
  return `${sourceUrl(v.export)}#${v.subdir}#${v.uid}:${v.gid}#${v.onDelete}`
}

/** The volume an ID names, or null when the ID is not one this controller made. */
export function parseVolumeId(id: string, parseSource: (text: string) => Source): ProvisionedVolume | null {
  const parts = id.split('#')
  if (parts.length !== 4) return null
  const [src, subdir, ids, onDelete] = parts as [string, string, string, string]
  const m = /^(\d{1,10}):(\d{1,10})$/.exec(ids)
  if (m === null || !ON_DELETE.includes(onDelete as OnDelete) || !isSubdirName(subdir)) return null
  const uid = Number(m[1])
  const gid = Number(m[2])
  if (uid === 0 || gid === 0 || uid >= 2 ** 32 || gid >= 2 ** 32) return null
  let exp: Source
  try {
    exp = parseSource(src)
  } catch {
    return null
  }
  return { export: exp, subdir, uid, gid, onDelete: onDelete as OnDelete }
}

/** One path component made of what Kubernetes names are made of. */
export function isSubdirName(s: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/.test(s) && s !== '.' && s !== '..'
}

// NFSv3 client: one method per RFC 1813 procedure, nfsstat3 mapped to errno, JUKEBOX retried.
// Protocol only: no FUSE, no paths, no caches; runs unchanged in a worker thread.
export { Nfs3Client } from './client.js'
export { Nfs3Error, nfsstatName, ESTALE } from './errors.js'
export type { CallCredential } from './types.js'

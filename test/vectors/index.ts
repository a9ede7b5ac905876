// All hand-made vectors, grouped by protocol. Each file documents its bytes field by field.

import type { CallVector, ReplyVector } from './wire.js'
import { RPC_REPLY_VECTORS } from './rpc.js'
import { GETPORT_CALL, NULL_CALL, PORTMAP_REPLY_VECTORS } from './portmap.js'
import { MNT_CALL, UMNT_CALL, MOUNT_REPLY_VECTORS } from './mount.js'
import { NFS3_CALL_VECTORS, NFS3_REPLY_VECTORS } from './nfs3.js'

export * from './wire.js'

export const CALL_VECTORS = [GETPORT_CALL, NULL_CALL, MNT_CALL, UMNT_CALL, ...NFS3_CALL_VECTORS] as CallVector<unknown>[]

export const REPLY_VECTORS: ReplyVector[] = [
  ...RPC_REPLY_VECTORS,
  ...PORTMAP_REPLY_VECTORS,
  ...MOUNT_REPLY_VECTORS,
  ...NFS3_REPLY_VECTORS,
]

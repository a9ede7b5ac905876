import type { AuthSys, InboundMap } from '../../xdr/types.js'

/**
 * Who a call is made as: the AUTH_SYS credential that goes out, and the rewrite applied to the
 * fattr3s that come back. Built per call by the identity layer; never stored on a connection.
 */
export interface CallCredential {
  readonly auth: AuthSys
  readonly map: InboundMap | null
}

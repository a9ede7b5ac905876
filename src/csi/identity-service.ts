// CSI Identity: who the plugin is, what it offers, and whether it is ready (the published volumes
// of the last run are mounted again, or have failed to be, before Probe says ready).
import type { Handler } from './grpc-server.js'

export interface IdentityFacts {
  driverName: string
  version: string
  controller: boolean
  ready: () => boolean
}

export function identityService(f: IdentityFacts): Record<string, Handler> {
  return {
    GetPluginInfo: async () => ({ name: f.driverName, vendor_version: f.version}),
    GetPluginCapabilities: async () => ({
      capabilities: f.controller ? [{ service: { type: 'CONTROLLER_SERVICE' } }] : [],
    }),
    Probe: async () => ({ ready: { value: f.ready() } }),
  }
}

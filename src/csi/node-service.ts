// CSI Node: publish a volume at the target kubelet names (no staging: each publish is its own
// mount, made with the volume's identity), unpublish it, report its usage and condition.
import type { Handler, Message } from './grpc-server.js'
import { parsePublish, requireString, targetKey } from './publish-request.js'
import type { Publications } from './publications.js'

export interface NodeFacts {
  nodeId: string
  mountRoot: string
}

export function nodeService(f: NodeFacts, publications: Publications): Record<string, Handler> {
  return {
    NodeGetInfo: async () => ({ node_id: f.nodeId, max_volumes_per_node: '0' }),
    NodeGetCapabilities: async () => ({
      capabilities: ['GET_VOLUME_STATS', 'VOLUME_CONDITION'].map((type) => ({ rpc: { type } })),
    }),
    NodePublishVolume: async (req: Message) => {
      await publications.publish(parsePublish(req, f.mountRoot))
      return {}
    },
    NodeUnpublishVolume: async (req: Message) => {
      const volumeId = requireString(req, 'volume_id', 'the volume to unpublish')
      const target = requireString(req, 'target_path', 'where it is published')
      await publications.unpublish(volumeId, targetKey(target))
      return {}
    },
    NodeGetVolumeStats: async (req: Message) => {
      const volumeId = requireString(req, 'volume_id', 'the volume to report')
      const path = requireString(req, 'volume_path', 'where it is published')
      const s = await publications.stats(volumeId, path.startsWith('/') ? targetKey(path) : path)
      return { usage: s.usage, volume_condition: s.condition }
    },
  }
}

// The Docker volume plugin protocol (HTTP POST, JSON bodies, on a unix socket) in front of the
// VolumeService. A refused call answers 200 with the reason in `Err`, which dockerd shows its user
// as is; a request that is not the protocol (bad JSON, unknown path, wrong method) answers 4xx with
// an `Err` as well. Nothing a caller sends can crash the daemon: every handler's error becomes Err.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { describeError } from '../mount/describe.js'
import type { VolumeService } from './volumes.js'

const CONTENT_TYPE = 'application/vnd.docker.plugins.v1+json'
/** Requests are a name, an ID and a few options: anything larger is not from an orchestrator. */
const MAX_BODY = 64 * 1024

type Handler = (body: Record<string, unknown>) => Promise<Record<string, unknown>>

class BadRequest extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
  }
}

export function pluginHandler(volumes: VolumeService, log: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  const routes: Record<string, Handler> = {
    '/Plugin.Activate': async () => ({ Implements: ['VolumeDriver'] }),
    '/VolumeDriver.Capabilities': async () => ({ Capabilities: { Scope: 'local' } }),
    '/VolumeDriver.Create': async (b) => {
      await volumes.create(b.Name, b.Opts)
      return { Err: '' }
    },
    '/VolumeDriver.Remove': async (b) => {
      await volumes.remove(b.Name)
      return { Err: '' }
    },
    '/VolumeDriver.Mount': async (b) => ({ Mountpoint: await volumes.mount(b.Name, b.ID), Err: '' }),
    '/VolumeDriver.Unmount': async (b) => {
      await volumes.unmount(b.Name, b.ID)
      return { Err: '' }
    },
    '/VolumeDriver.Path': async (b) => ({ Mountpoint: volumes.path(b.Name), Err: '' }),
    '/VolumeDriver.Get': async (b) => ({ Volume: volumes.get(b.Name), Err: '' }),
    '/VolumeDriver.List': async () => ({ Volumes: volumes.list(), Err: '' }),
  }

  return (req, res) => {
    const reply = (status: number, body: Record<string, unknown>): void => {
      const text = JSON.stringify(body)
      res.writeHead(status, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) })
      res.end(text)
    }
    const path = (req.url ?? '').split('?')[0]!
    const route = routes[path]
    readBody(req).then(async (text) => {
      if (route === undefined) throw new BadRequest(404, `unknown endpoint ${JSON.stringify(path.slice(0, 80))} (this is a Docker volume plugin: /Plugin.Activate, /VolumeDriver.*)`)
      if (req.method !== 'POST') throw new BadRequest(405, `${path} takes POST, not ${req.method ?? '?'}`)
      const body = parseBody(text)
      let answer: Record<string, unknown>
      try {
        answer = await route(body)
      } catch (err) {
        const why = describeError(err)
        log.info({ event: 'refused', call: path.slice(1), err: why }, `${path.slice(1)} refused: ${why}`)
        answer = { Err: why }
      }
      reply(200, answer)
    }).catch((err: unknown) => {
      const status = err instanceof BadRequest ? err.status : 400
      const why = describeError(err)
      const call = JSON.stringify(path.slice(0, 80))
      log.info({ event: 'bad-request', call, err: why }, `bad request to ${call}: ${why}`)
      if (!res.headersSent) reply(status, { Err: why })
    })
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const collect = (c: Buffer): void => {
      size += c.length
      if (size > MAX_BODY) {
        reject(new BadRequest(413, `request body larger than ${MAX_BODY} bytes`))
        // Drain the rest unread so the answer still reaches the caller.
        req.off('data', collect)
        req.resume()
        return
      }
      chunks.push(c)
    }
    req.on('data', collect)
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** An empty body is an empty request (dockerd sends none for Activate, List, Capabilities). */
function parseBody(text: string): Record<string, unknown> {
  if (text.trim() === '') return {}
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (err) {
    throw new BadRequest(400, `request body is not valid JSON (${(err as Error).message})`)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest(400, 'request body must be a JSON object')
  return body as Record<string, unknown>
}

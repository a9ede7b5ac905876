// A daemon's unix socket: root only, claimed from a dead predecessor, never from a live one.
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs'
import { createConnection } from 'node:net'
import type { Server } from 'node:http'
import { dirname } from 'node:path'
import { MountFailure } from '../mount/lifecycle.js'
import { describeError } from '../mount/describe.js'

/** Makes PATH free for our socket: a live one means another daemon, a dead one is removed. */
export async function claimSocket(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 })
  if (!existsSync(path)) return
  const alive = await new Promise<boolean>((resolve) => {
    const c = createConnection(path)
    c.once('connect', () => {
      c.destroy()
      resolve(true)
    })
    c.once('error', () => resolve(false))
  })
  if (alive) throw new MountFailure(`another process is serving on ${path}`)
  unlinkSync(path)
}

/**
 * Listens on the unix socket PATH, mode 0600. Node binds inside listen() itself, so the umask is
 * held only around that call (it is process-wide: nothing else may run under it) and the socket
 * is never open to others, whatever umask the daemon was started with.
 */
export async function listenPrivately(server: Server, path: string): Promise<void> {
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.once('listening', () => {
      server.off('error', reject)
      resolve()
    })
  })
  withPrivateUmask(() => server.listen(path))
  try {
    await listening
  } catch (err) {
    throw new MountFailure(`cannot listen on ${path}: ${(err as NodeJS.ErrnoException).code ?? describeError(err)}`)
  }
  chmodSync(path, 0o600)
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

export function removeSocket(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Already gone.
  }
}

/**
 * Runs FN (which creates a socket or file) with umask 0177. The umask is process-wide: FN must
 * bind synchronously and nothing else may run under it.
 */
export function withPrivateUmask<T>(fn: () => T): T {
  const old = process.umask(0o177)
  try {
    return fn()
  } finally {
    process.umask(old)
  }
}

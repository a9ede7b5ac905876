// Benchmark helpers that run in their own process: the in-memory FUSE daemon (a FUSE daemon must
// not live in the process that touches its mount, or the two deadlock), the engine driver and the
// delay proxy (each measured on its own pid, and none of them slowed by the orchestrator's work).
//
//   parent ──spawn──► node --import tsx SCRIPT ARGS
//          ◄─stdout── {"ready":true,...}            first line: the child is serving
//          ──stdin──► {"id":1,...}\n                 requests (optional line protocol)
//          ◄─stdout── {"id":1,...}\n                 one reply line per request
//          ──SIGTERM► child cleans up (unmounts) and exits 0
//
// Every child is registered in the fixtures' exit-time safety net (SIGTERM, then SIGKILL, and
// `fusermount -u` of its mount point if it had one), so an error or Ctrl-C leaves nothing behind.
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import { createInterface } from 'node:readline'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { baseEnv, fusermountSync, isAlive, isMounted, killSync, onExit } from '../../test/fixtures/proc.js'

/** A child gets this long to print its ready line (a FUSE mount or an NFS MOUNT takes well under 1 s). */
const READY_TIMEOUT_MS = 20_000
/** After SIGTERM a child unmounts and exits; beyond this it is stuck and gets SIGKILL. */
const STOP_TIMEOUT_MS = 15_000

/**
 * tsx's loader, by absolute URL: children may run with a working directory outside the project.
 * (createRequire, not import.meta.resolve: under uvu's `-r tsx` this module runs as CommonJS.)
 */
export const tsxImport = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

export interface ChildOptions {
  /** Unmounted (fusermount -u) by the safety net if the child dies without doing it. */
  mountpoint?: string
}

export interface Child<Ready> {
  pid: number
  /** The parsed ready line. */
  ready: Ready
  /** Sends one request line and resolves with the reply line carrying the same id. */
  request<T>(msg: Record<string, unknown>): Promise<T>
  /** Everything the child wrote to stderr so far. */
  stderr(): string
  /** SIGTERM; resolves once it exited (and its mount point is gone); rejects if it had to be killed. */
  stop(): Promise<void>
}

/**
 * Starts `node --import tsx SCRIPT ...ARGS`. Resolves once its first stdout line, a JSON object
 * with `ready: true`, arrived; rejects with its stderr if it exits first or is not ready in 20 s.
 */
export function startChild<Ready>(what: string, script: URL, args: readonly string[], o: ChildOptions = {}): Promise<Child<Ready>> {
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(process.execPath, ['--import', tsxImport, fileURLToPath(script), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: baseEnv(),
    cwd: '/',
  })
  const pid = child.pid
  if (pid === undefined) return Promise.reject(new Error(`${what}: could not spawn`))
  const deregister = onExit(() => {
    const running = killSync(pid)
    const mounted = o.mountpoint !== undefined && isMounted(o.mountpoint)
    if (o.mountpoint !== undefined) fusermountSync(o.mountpoint)
    return running || mounted ? `${what} (pid ${pid}${mounted ? `, ${o.mountpoint} still mounted` : ''})` : undefined
  })
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const pending = new Map<number, (line: Record<string, unknown>) => void>()
  let nextId = 1

  return new Promise((resolve, reject) => {
    let ready: Ready | undefined
    const timer = setTimeout(() => fail(`not ready within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS)
    const fail = (why: string): void => {
      if (ready !== undefined) return
      clearTimeout(timer)
      killSync(pid)
      if (o.mountpoint !== undefined) fusermountSync(o.mountpoint)
      deregister()
      reject(new Error(`${what}: ${why}\nstderr: ${err.trim()}`))
    }
    void exited.then(() => {
      fail(`exited before it was ready (code ${child.exitCode}, signal ${child.signalCode})`)
      for (const [, settle] of pending) settle({ error: `${what} exited: ${err.trim().split('\n').slice(-3).join(' | ')}` })
      pending.clear()
    })
    createInterface({ input: child.stdout }).on('line', (line) => {
      let msg: Record<string, unknown>
      try {
        msg = JSON.parse(line) as Record<string, unknown>
      } catch {
        err += `${line}\n`
        return
      }
      if (ready === undefined && msg.ready === true) {
        clearTimeout(timer)
        ready = msg as Ready
        resolve(handle(ready))
        return
      }
      const settle = pending.get(msg.id as number)
      pending.delete(msg.id as number)
      settle?.(msg)
    })

    const handle = (r: Ready): Child<Ready> => ({
      pid,
      ready: r,
      stderr: () => err,
      request<T>(msg: Record<string, unknown>): Promise<T> {
        const id = nextId++
        return new Promise<T>((res, rej) => {
          pending.set(id, (reply) => (typeof reply.error === 'string' ? rej(new Error(`${what}: ${reply.error}`)) : res(reply as T)))
          child.stdin.write(`${JSON.stringify({ ...msg, id })}\n`)
        })
      },
      async stop() {
        if (isAlive(pid)) child.kill('SIGTERM')
        let timer: NodeJS.Timeout | undefined
        const inTime = await Promise.race([
          exited.then(() => true),
          new Promise<boolean>((res) => { timer = setTimeout(() => res(false), STOP_TIMEOUT_MS) }),
        ])
        clearTimeout(timer)
        if (!inTime) killSync(pid, 0)
        const leftMounted = o.mountpoint !== undefined && !fusermountSync(o.mountpoint)
        deregister()
        if (!inTime) throw new Error(`${what}: no exit within ${STOP_TIMEOUT_MS} ms of SIGTERM (killed)\nstderr: ${err.trim()}`)
        if (leftMounted) throw new Error(`${what}: exited but ${o.mountpoint} is still mounted`)
      },
    })
  })
}

/**
 * The child side: prints the ready line and answers request lines with HANDLE (errors become
 * `{id, error}`), one at a time in arrival order.
 */
export function serveRequests(ready: Record<string, unknown>, handle: (msg: Record<string, unknown>) => Promise<Record<string, unknown>>): void {
  process.stdout.write(`${JSON.stringify({ ...ready, ready: true })}\n`)
  let chain = Promise.resolve()
  createInterface({ input: process.stdin }).on('line', (line) => {
    const msg = JSON.parse(line) as Record<string, unknown>
    chain = chain.then(async () => {
      let reply: Record<string, unknown>
      try {
        reply = await handle(msg)
      } catch (err) {
        reply = { error: (err as Error).stack ?? String(err) }
      }
      process.stdout.write(`${JSON.stringify({ ...reply, id: msg.id })}\n`)
    })
  })
}

// The NLM callback service of this process: where servers send GRANTED_MSG (and GRANTED) when a
// blocked lock becomes free. A server finds it through the client host's portmapper (program
// 100021 version 4, TCP, at the address the LOCK came from), and a host has one such entry, as it
// has one kernel lockd. So each mapnfs process listens on a port of its own, lists it in a
// registry directory under every mount's owner-handle tag, and the one process whose port holds
// the portmapper entry hands grants for other tags to the process that listed them. When that
// process goes, the next one that blocks takes the entry over.
//
// When the entry belongs to another lock manager (the kernel's lockd, an NFS server's NLM on
// this host), grants never reach us: blocked locks are then found granted by re-sending the LOCK
// (LockManager polls), which servers answer GRANTED once the lock is theirs to give.
import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import * as net from 'node:net'
import { join } from 'node:path'
import type { XdrCodec } from '../xdr/codec.js'
import {
  ACCEPT_GARBAGE_ARGS, ACCEPT_PROC_UNAVAIL, ACCEPT_PROG_MISMATCH, ACCEPT_PROG_UNAVAIL, ACCEPT_SUCCESS, LockCodec,
  NLM4_DENIED, NLM_PROG, NLM_VERS, NLMPROC4_GRANTED, NLMPROC4_GRANTED_MSG, type NlmLock,
} from '../xdr/lock-codec.js'
import { RecordReader, RpcServer, LAST_FRAGMENT } from '../rpc/index.js'
import { getport, PortmapError, setport, IPPROTO_UDP, type PortmapOptions } from '../proto/portmap/client.js'

/** Bytes of an owner handle that name the mount (LockManager's tag); the rest is its own. */
export const TAG_BYTES = 8

export interface Grant {
  cookie: Buffer
  exclusive: boolean
  lock: NlmLock
}

/** Resolves with the nlm4_stats to answer: NLM4_GRANTED when a waiter took the lock. */
export type GrantHandler = (grant: Grant, asMsg: boolean) => Promise<number>

/** Where the callback entry stands: ours, a peer's (it forwards), another lock manager's, or nobody's (no portmapper). */
export type Registration = 'ours' | 'peer' | 'foreign' | 'none'

const MAX_CALL = 8192
const FORWARD_TIMEOUT_MS = 5000
/** How often a blocked lock may re-check the portmapper entry. */
const RECHECK_MS = 2000
const PMAP: PortmapOptions = { host: '127.0.0.1', port: 111, timeoutMs: 1000, retrans: 1 }

export class GrantService {
  static #shared: Promise<GrantService> | undefined

  readonly #server: RpcServer
  readonly #codec: LockCodec
  readonly #xdr: XdrCodec
  readonly #dir: string
  readonly #log: (line: string) => void
  readonly #handlers = new Map<string, GrantHandler>()
  #checked: { at: number; result: Registration } | undefined
  #said = ''
  #closing = false

  private constructor(server: RpcServer, xdr: XdrCodec, dir: string, log: (line: string) => void) {
    this.#server = server
    this.#xdr = xdr
    this.#codec = new LockCodec(xdr)
    this.#dir = dir
    this.#log = log
  }

  /** The process's service, started by the first mount that takes locks. */
  static shared(xdr: XdrCodec, dir: string, log: (line: string) => void): Promise<GrantService> {
    GrantService.#shared ??= GrantService.#start(xdr, dir, log).catch((err: unknown) => {
      GrantService.#shared = undefined
      throw err
    })
    return GrantService.#shared
  }

  static async #start(xdr: XdrCodec, dir: string, log: (line: string) => void): Promise<GrantService> {
    let svc: GrantService | undefined
    // Servers call back from anywhere: listen on every address, as lockd does.
    const server = await RpcServer.listen({
      host: '0.0.0.0', port: 0, maxRecord: MAX_CALL, log,
      onCall: (msg, reply) => svc!.#onCall(msg, reply),
    })
    svc = new GrantService(server, xdr, dir, log)
    // Listings left by processes that were killed go now (reading them prunes them).
    svc.#peerPorts()
    return svc
  }

  get port(): number {
    return this.#server.port
  }

  /** Grants for owner handles starting with TAG go to HANDLER; the tag is listed for the other processes. */
  add(tag: Buffer, handler: GrantHandler): void {
    this.#handlers.set(tag.toString('hex'), handler)
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 })
    // The pid lets the others tell a listing of a process that was killed from a live one.
    writeFileSync(join(this.#dir, tag.toString('hex')), `${this.port} ${process.pid}\n`, { mode: 0o600 })
  }

  /** TAG's mount is gone; the last one closes the service and hands the portmapper entry on. */
  async remove(tag: Buffer): Promise<void> {
    const hex = tag.toString('hex')
    this.#handlers.delete(hex)
    removeFile(join(this.#dir, hex))
    if (this.#handlers.size > 0 || this.#closing) return
    this.#closing = true
    GrantService.#shared = undefined
    await this.#handOver().catch((err: Error) => this.#log(`lock callbacks: could not hand the portmapper entry on: ${err.message}`))
    await this.#server.close()
  }

  /**
   * Makes sure grants can reach this process: takes the portmapper entry when nobody holds it or
   * its holder is gone. Cheap to call before each blocking lock (rechecked every 2 s at most).
   */
  async ensureRegistered(): Promise<Registration> {
    const now = Date.now()
    if (this.#checked && now - this.#checked.at < RECHECK_MS) return this.#checked.result
    const result = await this.#register().catch((err: Error) => {
      this.#say(`lock callbacks: portmapper on this host: ${err.message}; blocked locks are polled`)
      return 'none' as const
    })
    this.#checked = { at: Date.now(), result }
    return result
  }

  async #register(): Promise<Registration> {
    const current = await this.#getport()
    if (current === null) {
      this.#say('lock callbacks: no portmapper on this host (port 111); blocked locks are polled')
      return 'none'
    }
    if (current === this.port) return 'ours'
    if (current !== 0 && await answers(current)) {
      if (this.#peerPorts().has(current)) return 'peer'
      this.#say(`lock callbacks: NLM v4 on this host is registered to another lock manager (port ${current}); blocked locks are polled`)
      return 'foreign'
    }
    // Unregistered, or its holder is gone.
    const ok = await this.#replaceEntry(current, this.port)
    if (!ok) {
      this.#say(`lock callbacks: the portmapper refused the NLM v4 entry (held by port ${current}, not ours to replace); blocked locks are polled`)
      return 'foreign'
    }
    this.#say(`lock callbacks: registered NLM v4 callbacks on port ${this.port}`)
    return 'ours'
  }

  /** GETPORT of our entry: the port, 0 when unregistered, null without a portmapper. */
  async #getport(): Promise<number | null> {
    try {
      return await getport(this.#xdr, PMAP, NLM_PROG, NLM_VERS)
    } catch (err) {
      if (err instanceof PortmapError) return 0
      if ((err as { code?: string }).code === 'ERR_RPC_CONNECT') return null
      throw err
    }
  }

  /** Leaving: give the entry to another live mapnfs process, or drop it. */
  async #handOver(): Promise<void> {
    if ((await this.#getport()) !== this.port) return
    let heir: number | null = null
    for (const port of this.#peerPorts().keys()) {
      if (port !== this.port && await answers(port)) {
        heir = port
        break
      }
    }
    await this.#replaceEntry(this.port, heir)
  }

  /**
   * Puts PORT (null: nothing) in place of the TCP entry CURRENT (0: none) holds. UNSET drops every
   * protocol of (prog, vers), so UDP's (rpc.statd's way to an NLM server on this host) is put
   * back. Resolves with the portmapper's answer to the SET (true when nothing is set).
   */
  async #replaceEntry(current: number, port: number | null): Promise<boolean> {
    const udp = await getport(this.#xdr, PMAP, NLM_PROG, NLM_VERS, IPPROTO_UDP).catch(() => 0)
    if (current !== 0) await setport(this.#xdr, PMAP, NLM_PROG, NLM_VERS, null)
    const ok = port === null || await setport(this.#xdr, PMAP, NLM_PROG, NLM_VERS, port)
    if (udp !== 0) await setport(this.#xdr, PMAP, NLM_PROG, NLM_VERS, udp, IPPROTO_UDP).catch(() => false)
    return ok
  }

  #peerPorts(): Map<number, string> {
    const out = new Map<number, string>()
    let names: string[] = []
    try {
      names = readdirSync(this.#dir)
    } catch {
      return out
    }
    for (const name of names) {
      if (!/^[0-9a-f]{16}$/.test(name)) continue
      const port = this.#portOf(name)
      if (port !== undefined) out.set(port, name)
    }
    return out
  }

  /** The port listed for TAGHEX; a listing whose process is gone is removed. */
  #portOf(tagHex: string): number | undefined {
    let text: string
    try {
      text = readFileSync(join(this.#dir, tagHex), 'utf8')
    } catch {
      return undefined
    }
    const [port, pid] = text.trim().split(' ').map(Number) as [number, number | undefined]
    if (pid !== undefined && Number.isInteger(pid) && pid > 0 && !alive(pid)) {
      removeFile(join(this.#dir, tagHex))
      return undefined
    }
    return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined
  }

  #say(line: string): void {
    if (line === this.#said) return
    this.#said = line
    this.#log(line)
  }

  // ---- calls in ---------------------------------------------------------------------------------

  #onCall(msg: Buffer, reply: (record: Buffer) => void): void {
    const c = this.#codec
    let call
    try {
      call = c.decodeCall(msg)
    } catch (err) {
      // Not even a call header we can answer: drop it, as a server drops garbage.
      this.#log(`lock callbacks: malformed call dropped: ${(err as Error).message}`)
      return
    }
    if (call.prog !== NLM_PROG) return reply(c.reply(call.xid, ACCEPT_PROG_UNAVAIL))
    if (call.vers !== NLM_VERS) return reply(c.reply(call.xid, ACCEPT_PROG_MISMATCH, undefined, { low: NLM_VERS, high: NLM_VERS }))
    if (call.proc === 0) return reply(c.reply(call.xid, ACCEPT_SUCCESS))
    if (call.proc !== NLMPROC4_GRANTED && call.proc !== NLMPROC4_GRANTED_MSG) return reply(c.reply(call.xid, ACCEPT_PROC_UNAVAIL))
    const g = call.granted
    if (g === undefined) return reply(c.reply(call.xid, ACCEPT_GARBAGE_ARGS))
    const asMsg = call.proc === NLMPROC4_GRANTED_MSG
    const tag = g.lock.oh.length >= TAG_BYTES ? g.lock.oh.subarray(0, TAG_BYTES).toString('hex') : ''
    const handler = this.#handlers.get(tag)
    if (handler === undefined) {
      void this.#forward(tag, msg).then((answer) => {
        if (answer !== undefined) reply(answer)
        else reply(asMsg ? c.reply(call.xid, ACCEPT_SUCCESS) : c.reply(call.xid, ACCEPT_SUCCESS, { cookie: g.cookie, stat: NLM4_DENIED }))
      })
      return
    }
    // A _MSG is answered at once (void); the handler sends its GRANTED_RES itself.
    if (asMsg) reply(c.reply(call.xid, ACCEPT_SUCCESS))
    void handler(g, asMsg).then(
      (stat) => { if (!asMsg) reply(c.reply(call.xid, ACCEPT_SUCCESS, { cookie: g.cookie, stat })) },
      (err: Error) => {
        this.#log(`lock callbacks: grant not taken: ${err.message}`)
        if (!asMsg) reply(c.reply(call.xid, ACCEPT_SUCCESS, { cookie: g.cookie, stat: NLM4_DENIED }))
      },
    )
  }

  /** Hands a call for another process's tag to that process; resolves with its reply record, or undefined. */
  async #forward(tagHex: string, msg: Buffer): Promise<Buffer | undefined> {
    const port = /^[0-9a-f]{16}$/.test(tagHex) ? this.#portOf(tagHex) : undefined
    if (port === undefined || port === this.port) return undefined
    return new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1')
      const done = (r: Buffer | undefined): void => {
        clearTimeout(timer)
        sock.destroy()
        resolve(r)
      }
      const timer = setTimeout(() => done(undefined), FORWARD_TIMEOUT_MS)
      const reader = new RecordReader(MAX_CALL, (answer) => {
        const mark = Buffer.alloc(4)
        mark.writeUInt32BE((LAST_FRAGMENT | answer.length) >>> 0)
        done(Buffer.concat([mark, answer]))
      })
      sock.on('data', (chunk: Buffer) => {
        try {
          reader.push(chunk)
        } catch {
          done(undefined)
        }
      })
      sock.on('error', (err: NodeJS.ErrnoException) => {
        // A listed process that is gone: drop its entry.
        if (err.code === 'ECONNREFUSED') removeFile(join(this.#dir, tagHex))
        done(undefined)
      })
      sock.on('close', () => done(undefined))
      const mark = Buffer.alloc(4)
      mark.writeUInt32BE((LAST_FRAGMENT | msg.length) >>> 0)
      sock.write(Buffer.concat([mark, msg]))
    })
  }
}

function removeFile(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Gone already.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1')
    const end = (v: boolean): void => {
      sock.destroy()
      resolve(v)
    }
    sock.setTimeout(1000, () => end(false))
    sock.once('connect', () => end(true))
    sock.once('error', () => end(false))
  })
}

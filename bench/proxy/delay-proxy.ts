// A TCP proxy on 127.0.0.1 that holds every byte for DELAY ms in each direction: the loopback
// server then looks 2 x DELAY ms of round trip away (a server in another zone), with no bandwidth
// limit, no loss and no reordering. What a client keeps in flight decides what it gets through it:
// one call at a time gets one reply per round trip.
//
//   source ──data──► queue [(chunk, due = arrival + DELAY), ...] ──timer at head.due──► sink
//
// One timer per direction, armed for the head of its queue; when it fires, every chunk that is due
// goes out. Timers fire late, never early, so each byte waits DELAY ms or a little more (about
// 0.1-1 ms on an idle machine). The queue holds what is in the "wire": past HIGH_WATER bytes the
// source is paused (TCP backpressure), and a sink that does not drain holds the queue back.
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net'

/**
 * Bytes one direction holds before it stops reading its source. It must exceed bandwidth x delay
 * or the proxy would throttle as well as delay: 64 MiB covers 12 GiB/s at 5 ms.
 */
const HIGH_WATER = 64 * 1024 * 1024

export interface DelayProxy {
  port: number
  /** Connections accepted so far. */
  accepted(): number
  /** Closes the listener and every connection; resolves when the listener is closed. */
  close(): Promise<void>
}

class DelayLine {
  readonly #queue: { data: Buffer; due: number }[] = []
  #queued = 0
  #timer: NodeJS.Timeout | null = null
  #blocked = false

  constructor(readonly source: Socket, readonly sink: Socket, readonly delayMs: number) {
    source.on('data', (data: Buffer) => this.#push(data))
    sink.on('drain', () => {
      this.#blocked = false
      this.#flush()
    })
  }

  #push(data: Buffer): void {
    this.#queue.push({ data, due: performance.now() + this.delayMs })
    this.#queued += data.length
    if (this.#queued > HIGH_WATER) this.source.pause()
    if (this.#queue.length === 1) this.#arm()
  }

  #arm(): void {
    if (this.#timer !== null || this.#blocked || this.#queue.length === 0) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#flush()
    }, Math.max(0, this.#queue[0]!.due - performance.now()))
  }

  #flush(): void {
    const now = performance.now()
    while (this.#queue.length > 0 && this.#queue[0]!.due <= now && !this.#blocked && !this.sink.destroyed) {
      const { data } = this.#queue.shift()!
      this.#queued -= data.length
      if (!this.sink.write(data)) this.#blocked = true
    }
    if (this.#queued <= HIGH_WATER) this.source.resume()
    this.#arm()
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#queue.length = 0
  }
}

/** Starts a proxy on a free port of 127.0.0.1 to 127.0.0.1:TARGET_PORT; resolves once it listens. */
export async function startDelayProxy(targetPort: number, delayMs: number): Promise<DelayProxy> {
  const open = new Set<() => void>()
  let accepted = 0
  const server = createServer({ noDelay: true }, (client) => {
    accepted++
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort, noDelay: true })
    const lines = [new DelayLine(client, upstream, delayMs), new DelayLine(upstream, client, delayMs)]
    const close = (): void => {
      open.delete(close)
      for (const l of lines) l.stop()
      client.destroy()
      upstream.destroy()
    }
    open.add(close)
    for (const s of [client, upstream]) {
      s.on('error', close)
      s.on('close', close)
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    close() {
      for (const c of [...open]) c()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

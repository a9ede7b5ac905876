// Calls about one thing (a volume, a target path) run one at a time, in arrival order; calls
// about different things run side by side. Two containers starting at once must not mount twice.
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>()

  /** Runs FN after every earlier call for KEY has finished (failed ones included). */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve()
    const run = before.then(fn, fn)
    const tail = run.catch(() => undefined)
    this.#tails.set(key, tail)
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    })
    return run
  }

  /** What is queued or running now, settled (never rejected). */
  pending(): Promise<unknown>[] {
    return [...this.#tails.values()]
  }
}

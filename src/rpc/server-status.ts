// One status for a server reached over several members (the connections of a pool, the workers
// of an engine): not responding as soon as one member finds it silent, OK again once none does.
// Each change is told once, so the mount logs one line per outage however many members saw it.
export class ServerStatus {
  readonly #silent = new Set<number>()
  readonly #onChange: ((up: boolean) => void) | undefined

  constructor(onChange: ((up: boolean) => void) | undefined) {
    this.#onChange = onChange
  }

  /** What member `member` found: up (a reply came) or not (silent for a whole major timeout). */
  report(member: number, up: boolean): void {
    const before = this.#silent.size
    if (up) this.#silent.delete(member)
    else this.#silent.add(member)
    if (before === 0 && this.#silent.size > 0) this.#onChange?.(false)
    else if (before > 0 && this.#silent.size === 0) this.#onChange?.(true)
  }
}

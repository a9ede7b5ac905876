// This host's NSM state number, as rpc.statd keeps it: odd while up, bumped by two on every
// boot. Servers record it with each lock (LOCK's `state`) and compare it when told of a reboot.
// Kept in the lock directory with the boot id it belongs to and the servers this host has taken
// locks at; a different boot id means the host rebooted since, every lock it held is gone on its
// side, and those servers are to be told (SM_NOTIFY) so they drop them too.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface HostStatus {
  state: number
  /** The host rebooted since the last run recorded its state: `servers` may still hold its old locks. */
  rebooted: boolean
  /** Servers this host has taken locks at (with any state). */
  servers: string[]
  /** The boot this state belongs to. */
  bootId: string
}

interface Saved {
  bootId: string
  state: number
  servers: string[]
}

const BOOT_ID = '/proc/sys/kernel/random/boot_id'
const FILE = 'nsm-state.json'

function load(dir: string): Partial<Saved> | undefined {
  try {
    const v = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as Partial<Saved>
    return typeof v === 'object' && v !== null ? v : undefined
  } catch {
    return undefined
  }
}

function save(dir: string, s: Saved): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const path = join(dir, FILE)
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(s), { mode: 0o600 })
  renameSync(tmp, path)
}

/** The state for this boot (recorded at the first call after a boot). Throws the fs error when DIR cannot be written. */
export function hostStatus(dir: string, bootIdPath = BOOT_ID): HostStatus {
  const bootId = readFileSync(bootIdPath, 'utf8').trim()
  const prev = load(dir)
  const servers = Array.isArray(prev?.servers) ? prev.servers.filter((h): h is string => typeof h === 'string') : []
  const prevState = typeof prev?.state === 'number' && Number.isInteger(prev.state) && prev.state > 0 ? prev.state : undefined
  if (prevState !== undefined && prev?.bootId === bootId) return { state: prevState, rebooted: false, servers, bootId }
  // First run ever: 1. After a reboot: the next odd number (wrapping below 2^31).
  const state = prevState === undefined ? 1 : ((prevState | 1) + 2) % 0x7fffffff
  save(dir, { bootId, state, servers })
  return { state, rebooted: prevState !== undefined, servers, bootId }
}

/** Adds HOST to the servers to notify after a reboot. */
export function rememberServer(dir: string, host: string, bootIdPath = BOOT_ID): void {
  const s = hostStatus(dir, bootIdPath)
  if (s.servers.includes(host)) return
  save(dir, { bootId: s.bootId, state: s.state, servers: [...s.servers, host] })
}

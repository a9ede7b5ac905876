// This host's NSM state number, as rpc.statd keeps it: odd while up, bumped by two on every
// boot. Servers record it with each lock (LOCK's `state`) and compare it when told of a reboot.
// Kept in the lock directory with the boot id it belongs to; a different boot id means the host
// rebooted since, and every lock this host held is gone on its side.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface HostStatus {
  state: number
  /** The host rebooted since the last run recorded its state (servers may still hold its old locks). */
  rebooted: boolean
}

const BOOT_ID = '/proc/sys/kernel/random/boot_id'

export function hostStatus(dir: string, bootIdPath = BOOT_ID): HostStatus {
  const bootId = readFileSync(bootIdPath, 'utf8').trim()
  const path = join(dir, 'nsm-state.json')
  let prev: { bootId?: unknown; state?: unknown } | undefined
  try {
    prev = JSON.parse(readFileSync(path, 'utf8')) as { bootId?: unknown; state?: unknown }
  } catch {
    prev = undefined
  }
  const prevState = typeof prev?.state === 'number' && Number.isInteger(prev.state) && prev.state > 0 ? prev.state : undefined
  if (prevState !== undefined && prev?.bootId === bootId) return { state: prevState, rebooted: false }
  // First run ever: 1. After a reboot: the next odd number (wrapping below 2^31).
  const state = prevState === undefined ? 1 : ((prevState | 1) + 2) % 0x7fffffff
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify({ bootId, state }), { mode: 0o600 })
  renameSync(tmp, path)
  return { state, rebooted: prevState !== undefined }
}

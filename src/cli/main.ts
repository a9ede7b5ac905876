#!/usr/bin/env node
// mapnfs command line: `mount` runs the daemon in the foreground, `unmount` asks the kernel to
// drop a mount (the daemon notices and exits). Every failure is one line on stderr.
import { spawnSync } from 'node:child_process'
import { HELP, parseMountArgs, UsageError } from '../mount/options.js'
import { MountFailure, runMount } from '../mount/lifecycle.js'
import { isMounted } from '../mount/mounts.js'
import { statsLine } from '../mount/stats.js'
import { describeError } from '../mount/describe.js'
import { runServe } from '../serve/daemon.js'
import { parseServeArgs, SERVE_HELP } from '../serve/options.js'
import { CSI_HELP, parseCsiArgs } from '../csi/options.js'
import { realpathSync } from 'node:fs'

const log = (line: string): void => {
  process.stderr.write(`mapnfs: ${line}\n`)
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (cmd === undefined) throw new UsageError('usage: mapnfs mount SOURCE MOUNTPOINT [-o options] | mapnfs unmount MOUNTPOINT | mapnfs serve [--options] | mapnfs csi [--options] (see mapnfs --help)')
  if (cmd === '--help' || cmd === '-h' || cmd === 'help' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(HELP + SERVE_HELP + CSI_HELP)
    return 0
  }
  if (cmd === 'mount') {
    const opts = parseMountArgs(rest)
    // Installed before anything is mounted: a signal during start-up fails the start cleanly
    // (everything undone); once serving, it unmounts.
    const stop = new AbortController()
    const onSignal = (): void => stop.abort()
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      const running = await runMount(opts, { log, signal: stop.signal })
      const printStats = (): void => log(statsLine(running.stats()))
      // With `stats`, SIGUSR2 prints the same line while serving (what a call counts at a given moment).
      if (opts.stats) process.on('SIGUSR2', printStats)
      // Printed only once SIGINT/SIGTERM lead to a clean unmount.
      process.stdout.write(`mapnfs: mounted ${opts.sourceText} on ${opts.mountpoint}\n`)
      const code = await running.done
      process.off('SIGUSR2', printStats)
      return code
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
  if (cmd === 'serve') {
    const running = await runServe(parseServeArgs(rest))
    return running.done
  }
  if (cmd === 'csi') {
    const opts = parseCsiArgs(rest)
    // Loaded only here: gRPC and its proto parsing are no part of a plain mount's start-up.
    const { runCsi } = await import('../csi/daemon.js')
    const running = await runCsi(opts)
    return running.done
  }
  if (cmd === 'unmount' || cmd === 'umount') {
    if (rest.length !== 1) throw new UsageError('usage: mapnfs unmount MOUNTPOINT')
    const mp = rest[0]!
    let real = mp
    try {
      real = realpathSync(mp)
    } catch {
      // A dead FUSE mount cannot be resolved; fusermount takes the path as given.
    }
    if (!isMounted(real) && !isMounted(mp)) throw new MountFailure(`${mp} is not mounted`)
    const r = spawnSync('fusermount', ['-u', mp], { encoding: 'utf8' })
    if (r.status !== 0) throw new MountFailure(`unmount of ${mp} failed: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]}`)
    return 0
  }
  throw new UsageError(`unknown command '${cmd}' (expected mount, unmount, serve or csi; see mapnfs --help)`)
}

main(process.argv.slice(2)).then((code) => {
  process.exit(code)
}, (err: unknown) => {
  log(describeError(err))
  // Bad usage (including rejected ids) exits 2, a failed mount 1, as --help says.
  const code = (err as { code?: unknown }).code
  process.exit(code === 'ERR_USAGE' || code === 'ERR_IDENTITY' ? 2 : 1)
})

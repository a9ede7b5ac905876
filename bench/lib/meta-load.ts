// The metadata loads, as an application runs them: a script started as the application's uid
// (bench/lib/meta.ts runs it through setpriv) that prints one JSON line {ops, seconds}.
//
//   meta-load.ts stat   DIR PREFIX COUNT SECONDS   stat(2) DIR/PREFIX0..COUNT-1 round robin for SECONDS
//   meta-load.ts create DIR PREFIX COUNT           open(O_CREAT|O_EXCL|O_WRONLY) + close of COUNT new files
//   meta-load.ts ls     DIR                        one `ls -l DIR` (readdir + lstat of every entry); ops = entries
//
// Synchronous calls, one at a time: one application thread. Node's own cost per call (a few us)
// is small next to a FUSE round trip (100s of us).
import { closeSync, openSync, statSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'

const [what, dir, ...rest] = process.argv.slice(2)
if (dir === undefined) throw new Error('usage: meta-load.ts stat|create|ls DIR ...')
let ops = 0
const t0 = performance.now()
switch (what) {
  case 'stat': {
    const [prefix, count, seconds] = [rest[0]!, Number(rest[1]), Number(rest[2])]
    const paths = Array.from({ length: count }, (_, i) => `${dir}/${prefix}${i}`)
    const deadline = t0 + seconds * 1000
    while (performance.now() < deadline) statSync(paths[ops++ % count]!)
    break
  }
  case 'create': {
    const [prefix, count] = [rest[0]!, Number(rest[1])]
    for (; ops < count; ops++) closeSync(openSync(`${dir}/${prefix}${ops}`, 'wx'))
    break
  }
  case 'ls': {
    const r = spawnSync('/bin/ls', ['-l', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    if (r.status !== 0) throw new Error(`ls -l ${dir} exited ${r.status}: ${r.stderr}`)
    // One line per entry after the "total" line.
    ops = r.stdout.split('\n').filter(Boolean).length - 1
    break
  }
  default:
    throw new Error(`unknown load ${what}`)
}
process.stdout.write(`${JSON.stringify({ ops, seconds: (performance.now() - t0) / 1000 })}\n`)

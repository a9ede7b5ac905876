// One paragraph describing the machine and the software a benchmark ran on, for its header: the
// numbers only mean something next to the CPU, the core count and the versions that made them.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, release, totalmem } from 'node:os'

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim().split('\n')[0]! : '?'
}

/** Debian package version, or '?' when it is not installed. */
function pkg(name: string): string {
  return firstLine('dpkg-query', ['-W', '-f', '${Version}', name])
}

export function describeMachine(): string[] {
  const model = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '?'
  return [
    `machine: ${model}, ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, Linux ${release()}`,
    `software: node ${process.version}, ${firstLine('/usr/bin/fio', ['--version'])}, nfs-ganesha ${pkg('nfs-ganesha')}, libfuse2 ${pkg('libfuse2')}, libnfs-utils ${pkg('libnfs-utils')}`,
  ]
}

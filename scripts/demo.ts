// `npm run demo`: mapnfs end to end on one machine, as root.
//
// Starts a private nfs-ganesha on 127.0.0.1 (the test fixtures' one), mounts its export with
// uid=1234,gid=1234 through the real CLI, writes a few files through the mount as local uid 2000
// (the application), then shows both sides: the server stores 1234:1234, the application sees
// 2000:2000. Everything it started is stopped again, also on an error or Ctrl-C (the fixtures'
// exit-time safety net unmounts and stops servers by pid).
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../test/fixtures/ganesha.js'
import { makeMountpoint } from '../test/fixtures/paths.js'
import { mountCli, requireCli, runAs, shAs, type MountedCli } from '../test/fixtures/mount.js'

const APP_UID = 2000
const SERVER_ID = 1234

function heading(text: string): void {
  process.stdout.write(`\n=== ${text} ===\n`)
}

async function lsAs(uid: number, dir: string): Promise<string> {
  const r = await runAs(uid, uid, '/bin/ls', ['-ln', dir])
  if (r.code !== 0) throw new Error(`ls -ln ${dir} as uid ${uid} failed: ${r.stderr.trim()}`)
  return r.stdout
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the demo mounts FUSE and runs nfs-ganesha: run it as root')
  requireCli()

  const exp = makeExportDir()
  const mnt = makeMountpoint()
  let server: Ganesha | undefined
  let mount: MountedCli | undefined
  try {
    server = await startGanesha({ exports: [{ path: exp }] })
    process.stdout.write(`nfs-ganesha (pid ${server.pid}) exports ${exp} on 127.0.0.1 (NFS port ${server.nfsPort}, MOUNT port ${server.mountPort})\n`)

    const source = nfsSource(exp)
    const args = ['-o', `uid=${SERVER_ID},gid=${SERVER_ID},${portOptions(server)}`]
    process.stdout.write(`$ mapnfs mount ${source} ${mnt} ${args.join(' ')}\n`)
    mount = await mountCli(source, mnt, args)
    process.stdout.write(`${mount.stdout()}`)

    heading(`the application (local uid ${APP_UID}) writes through the mount`)
    const script = [
      `cd ${mnt}`,
      'umask 022',
      "printf 'hello from the app\\n' > hello.txt",
      'mkdir reports',
      "printf 'q1,42\\n' > reports/q1.csv",
      "printf 'more\\n' >> hello.txt",
      'ln -s hello.txt latest',
      `chown ${APP_UID}:${APP_UID} hello.txt`,
      'id',
    ].join(' && ')
    process.stdout.write(await shAs(APP_UID, APP_UID, script))

    heading(`server side: ls -ln ${exp} (what nfs-ganesha stores)`)
    process.stdout.write(await lsAs(0, exp))
    heading(`application side: ls -ln ${mnt} (as uid ${APP_UID})`)
    process.stdout.write(await lsAs(APP_UID, mnt))
    process.stdout.write(`\nOn the server every file belongs to ${SERVER_ID}:${SERVER_ID}; the application sees them as its own (${APP_UID}:${APP_UID}).\n`)
  } finally {
    if (mount !== undefined) {
      const u = await mount.unmount()
      process.stdout.write(`\nunmounted ${mnt} (mapnfs exit code ${u.code})\n`)
    }
    if (server !== undefined) {
      await server.stop()
      process.stdout.write(`stopped nfs-ganesha (pid ${server.pid})\n`)
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})

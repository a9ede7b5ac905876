// mapnfs csi's Node service as kubelet drives it, against a real nfs-ganesha, a real slapd and a
// real container runtime (a private dockerd): kubelet's target paths (parent made, target not),
// the target bind-mounted into a container as the runtime does, per-volume identities on one
// export, read-only volumes, statfs, an unresponsive server, an LDAP volume whose password comes
// only from the publish secret, and a plugin restart under a running container.
import * as assert from 'uvu/assert'
import { chmodSync, existsSync, mkdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePorts, makeExportDir, nfsUrl, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { owner } from '../fixtures/expect.js'
import { isMounted } from '../fixtures/proc.js'
import { runCli } from '../fixtures/mount.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { startSlapd, type Slapd } from '../fixtures/slapd.js'
import { startDockerd, type Dockerd } from '../fixtures/dockerd.js'
import { startProxy, type TcpProxy } from '../fixtures/tcp-proxy.js'
import { scrapeMetrics } from '../fixtures/serve.js'
import { mountCapability, podTarget, startCsi, Status, type CsiDaemon, type Msg } from '../fixtures/csi.js'

const ALICE_PW = 'alice-Csi-Pw-4k9s-ß'

interface Ctx {
  g: Ganesha
  exp: string
  ldap: Slapd
  dockerd: Dockerd
  image: string
  proxy: TcpProxy
  metricsPort: number
  env: NodeJS.ProcessEnv
  d: CsiDaemon
}

const s = fixtureSuite<Ctx>('mapnfs csi: the Node service with kubelet, a container runtime, ganesha and slapd', async (defer) => {
  const exp = makeExportDir()
  mkdirSync(join(exp, 'shared'))
  chmodSync(join(exp, 'shared'), 0o1777)
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const proxy = await startProxy({ port: g.nfsPort })
  defer(() => proxy.close())
  const ldap = await startSlapd()
  defer(() => ldap.stop())
  await ldap.addUser({ uid: 'alice', uidNumber: 5001, gidNumber: 5002, password: ALICE_PW })
  const env = {
    LDAP_HOST: '127.0.0.1',
    LDAP_PORT: String(ldap.port),
    LDAP_SVC_USER: ldap.svcDn,
    LDAP_SVC_PASS: ldap.svcPassword,
    LDAP_USER_FQDN: ldap.baseDn,
    LDAP_USER_FILTER: '(&(objectClass=inetOrgPerson)(uid=%s))',
    LDAP_TIMEOUT: '10',
  }
  const [metricsPort] = await freePorts(1)
  const ctx = { g, exp, ldap, proxy, env, metricsPort: metricsPort! } as unknown as Ctx
  ctx.d = await startCsi({ env, args: ['--metrics', `127.0.0.1:${metricsPort}`, '--log-level', 'debug'] })
  defer(async () => {
    const r = await ctx.d.stop()
    if (r.code !== 0) throw new Error(`mapnfs csi exited ${r.code}: ${r.stderr}`)
  })
  ctx.dockerd = await startDockerd(defer)
  ctx.image = await ctx.dockerd.importBusybox()
  return ctx
})

const source = (c: Ctx): string => nfsUrl(c.g, c.exp)

function publishReq(target: string, volumeId: string, context: Record<string, string>, extra: Msg = {}): Msg {
  return {
    volume_id: volumeId,
    target_path: target,
    volume_capability: mountCapability('MULTI_NODE_MULTI_WRITER'),
    // What kubelet adds with podInfoOnMount: facts, not options.
    volume_context: { ...context, 'csi.storage.k8s.io/pod.name': 'app-0', 'csi.storage.k8s.io/pod.namespace': 'team-a', 'csi.storage.k8s.io/pod.uid': 'uid-0', 'csi.storage.k8s.io/ephemeral': 'false', 'csi.storage.k8s.io/serviceAccount.name': 'default' },
    readonly: false,
    ...extra,
  }
}

/** `docker run --rm -u 2000:2000 -v TARGET:/data`: the runtime's bind of kubelet's target into a container. */
function runApp(c: Ctx, target: string, script: string, ro = false) {
  return c.dockerd.docker(['run', '--rm', '--network', 'none', '-u', '2000:2000', '-v', `${target}:/data${ro ? ':ro' : ''}`, c.image, 'sh', '-c', script])
}

async function unpublish(c: Ctx, volumeId: string, target: string): Promise<void> {
  await c.d.ok('Node', 'NodeUnpublishVolume', { volume_id: volumeId, target_path: target })
  assert.not.ok(isMounted(target))
  assert.not.ok(existsSync(target))
}

s.test('a pod as uid 2000 writes through a published volume: the server stores 1234:1234, the container sees itself', async (c) => {
  const target = podTarget(c.d.dirs, 'pod-a', 'pv-a')
  assert.not.ok(existsSync(target))
  await c.d.ok('Node', 'NodePublishVolume', publishReq(target, 'vol-a', { source: source(c), uid: '1234', gid: '1234' }))
  assert.ok(isMounted(target))
  const r = await runApp(c, target, 'echo hello > /data/hello.txt && stat -c %u:%g /data/hello.txt && id -u')
  assert.is(r.code, 0, r.stderr)
  assert.is(r.stdout, '2000:2000\n2000\n')
  assert.is(owner(join(c.exp, 'hello.txt')), '1234:1234')
  const rec = c.d.records().find((x) => x.event === 'publish' && x.volume === 'vol-a')
  assert.ok(rec !== undefined, 'a publish record')
  assert.is(rec!.pod, 'team-a/app-0')
  await unpublish(c, 'vol-a', target)
})

s.test('two volumes with different uids on one export: one reads the other\'s file but cannot delete it', async (c) => {
  const ta = podTarget(c.d.dirs, 'pod-b1', 'pv-b1')
  const tb = podTarget(c.d.dirs, 'pod-b2', 'pv-b2')
  await c.d.ok('Node', 'NodePublishVolume', publishReq(ta, 'vol-b1', { source: source(c), uid: '1234', gid: '1234' }))
  await c.d.ok('Node', 'NodePublishVolume', publishReq(tb, 'vol-b2', { source: source(c), uid: '1235', gid: '1235' }))
  const a = await runApp(c, ta, "umask 022; echo 'from b1' > /data/shared/note.txt")
  assert.is(a.code, 0, a.stderr)
  assert.is(owner(join(c.exp, 'shared', 'note.txt')), '1234:1234')
  const b = await runApp(c, tb, 'cat /data/shared/note.txt; stat -c %u /data/shared/note.txt; rm -f /data/shared/note.txt; echo rm=$?')
  assert.match(b.stdout, /^from b1\n1234\n/)
  assert.match(b.stdout, /rm=1\n$/)
  assert.match(b.stderr, /Permission denied|Operation not permitted/)
  assert.ok(existsSync(join(c.exp, 'shared', 'note.txt')))
  await unpublish(c, 'vol-b1', ta)
  await unpublish(c, 'vol-b2', tb)
})

s.test('readonly, a reader-only access mode, and a read-only mountOption each give EROFS', async (c) => {
  writeFileSync(join(c.exp, 'ro.txt'), 'readable\n')
  const cases: [string, Msg, Record<string, string>][] = [
    ['readonly', { readonly: true }, {}],
    ['reader-only mode', { volume_capability: mountCapability('MULTI_NODE_READER_ONLY') }, {}],
    ['mountOptions ro', { volume_capability: mountCapability('MULTI_NODE_MULTI_WRITER', { mount_flags: ['ro'] }) }, {}],
  ]
  for (const [i, [what, extra, ctx]] of cases.entries()) {
    const target = podTarget(c.d.dirs, `pod-ro${i}`, 'pv-ro')
    await c.d.ok('Node', 'NodePublishVolume', publishReq(target, `vol-ro${i}`, { source: source(c), uid: '1234', gid: '1234', ...ctx }, extra))
    const r = await runApp(c, target, 'cat /data/ro.txt; touch /data/nope')
    assert.is(r.stdout, 'readable\n', what)
    assert.match(r.stderr, /Read-only file system/, what)
    assert.not.ok(existsSync(join(c.exp, 'nope')))
    await unpublish(c, `vol-ro${i}`, target)
  }
})

s.test('NodeGetVolumeStats matches statfs of the mount; the metrics endpoint labels series by volume and target', async (c) => {
  const target = podTarget(c.d.dirs, 'pod-s', 'pv-s')
  await c.d.ok('Node', 'NodePublishVolume', publishReq(target, 'vol-s', { source: source(c), uid: '1234', gid: '1234' }))
  const r = await c.d.ok('Node', 'NodeGetVolumeStats', { volume_id: 'vol-s', volume_path: target })
  const st = statfsSync(target, { bigint: true })
  const [bytes, inodes] = r.usage as { unit: string; total: string; available: string; used: string }[]
  assert.is(bytes!.unit, 'BYTES')
  assert.is(bytes!.total, (st.blocks * st.bsize).toString())
  assert.is(inodes!.unit, 'INODES')
  assert.is(inodes!.total, st.files.toString())
  // Free space moves with everything else on this disk: close, not equal.
  const near = (a: string, b: bigint, slack: bigint): boolean => (BigInt(a) > b ? BigInt(a) - b : b - BigInt(a)) <= slack
  assert.ok(near(bytes!.available, st.bavail * st.bsize, 256n * 1024n * 1024n), `${bytes!.available} vs ${st.bavail * st.bsize}`)
  assert.is(BigInt(bytes!.used) + BigInt(bytes!.available) <= BigInt(bytes!.total), true)
  assert.equal(r.volume_condition, { abnormal: false, message: 'mounted; NFS server 127.0.0.1 responding' })

  const m = await scrapeMetrics(c.metricsPort)
  assert.is(m.series.get(`mapnfs_volume_mounted{volume="vol-s",target="${target}"}`), 1)
  assert.ok((m.series.get(`mapnfs_nfs_calls_total{volume="vol-s",target="${target}",proc="FSSTAT"}`) ?? 0) >= 1, m.text.slice(0, 2000))
  await unpublish(c, 'vol-s', target)
  const after = await scrapeMetrics(c.metricsPort)
  assert.not.ok(after.text.includes('volume="vol-s"'), 'an unpublished volume has no series')
})

s.test('an NFS server that stops answering makes the volume condition abnormal until it answers again', async (c) => {
  const target = podTarget(c.d.dirs, 'pod-f', 'pv-f')
  const flaky = `nfs://127.0.0.1:${c.proxy.port}${c.exp}?mountport=${c.g.mountPort}`
  await c.d.ok('Node', 'NodePublishVolume', publishReq(target, 'vol-f', { source: flaky, uid: '1234', gid: '1234', timeo: '5', retrans: '1' }))
  c.proxy.setMode({ kind: 'stall' })
  // A hard mount's reader waits through the silence; it is what makes the plugin notice.
  const reader = runApp(c, target, 'ls /data > /dev/null; echo done')
  await c.d.waitFor(/"event":"server-not-responding".*"volume":"vol-f"|"volume":"vol-f".*"event":"server-not-responding"/, 15_000)
  const down = await c.d.ok('Node', 'NodeGetVolumeStats', { volume_id: 'vol-f', volume_path: target })
  const cond = down.volume_condition as { abnormal: boolean; message: string }
  assert.is(cond.abnormal, true)
  assert.match(cond.message, /^NFS server 127\.0\.0\.1 not responding since \d{4}-/)
  assert.equal(down.usage, [])
  c.proxy.setMode({ kind: 'forward' })
  const r = await reader
  assert.is(r.stdout, 'done\n', r.stderr)
  await c.d.waitFor(/"event":"server-ok".*"volume":"vol-f"|"volume":"vol-f".*"event":"server-ok"/, 15_000)
  const up = await c.d.ok('Node', 'NodeGetVolumeStats', { volume_id: 'vol-f', volume_path: target })
  assert.is((up.volume_condition as { abnormal: boolean }).abnormal, false)
  await unpublish(c, 'vol-f', target)
})

s.test('bad volume attributes are INVALID_ARGUMENT with the texts mapnfs mount prints; nothing is left behind', async (c) => {
  const cli = await runCli(['mount', `${source(c)}`, '/nonexistent', '-o', 'uid=0,gid=0'])
  const cliText = cli.stderr.trim().replace(/^mapnfs: /, '')
  const cases: [Record<string, string>, Msg, RegExp | string][] = [
    [{ source: source(c), uid: '0', gid: '0' }, {}, cliText],
    [{ uid: '1234', gid: '1234' }, {}, 'Missing mandatory options: source'],
    [{ source: source(c), uid: '1234' }, {}, "required 'gid' option is missing"],
    [{ source: source(c), cache: 'maybe' }, {}, "Invalid 'cache' option"],
    [{ source: source(c), version: '4.1' }, {}, /NFSv4/],
    [{ source: source(c), bogus: '1' }, {}, "unknown option 'bogus'"],
    [{ source: source(c), username: 'alice', password: 'inline-pw-zz9' }, {}, /put it in the Secret that nodePublishSecretRef names/],
    [{ source: source(c), username: 'alice' }, {}, 'LDAP username is specified but LDAP password is missing'],
    [{ source: source(c), uid: '1234', gid: '1234' }, { secrets: { token: 'x' } }, /the node publish secret has a key "token"/],
    [{ source: source(c), uid: '1234', gid: '1234', cache: 'true' }, { volume_capability: mountCapability('SINGLE_NODE_WRITER', { mount_flags: ['cache=false'] }) }, /given twice, differently/],
    [{ source: source(c), uid: '1234', gid: '1234' }, { volume_capability: { block: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } } }, /block access is not offered/],
  ]
  for (const [i, [context, extra, want]] of cases.entries()) {
    const target = podTarget(c.d.dirs, `pod-bad${i}`, 'pv')
    const r = await c.d.rpc('Node', 'NodePublishVolume', publishReq(target, `vol-bad${i}`, context, extra))
    assert.is(r.code, Status.INVALID_ARGUMENT, `${JSON.stringify(context)}: ${r.details}`)
    if (typeof want === 'string') assert.is(r.details, want)
    else assert.match(r.details, want)
    assert.not.ok(existsSync(target), 'no target left')
    assert.not.ok(r.details.includes('inline-pw-zz9'))
  }
  // Outside kubelet's root (--mount-root): refused before anything is made.
  const outside = await c.d.rpc('Node', 'NodePublishVolume', publishReq('/tmp/mapnfs-csi-outside/mount', 'vol-out', { source: source(c), uid: '1234', gid: '1234' }))
  assert.is(outside.code, Status.INVALID_ARGUMENT)
  assert.match(outside.details, /is outside .* \(mapnfs csi --mount-root\)/)
  assert.not.ok(existsSync('/tmp/mapnfs-csi-outside'))
  // A server that refuses: the reason, as FAILED_PRECONDITION.
  const target = podTarget(c.d.dirs, 'pod-noexp', 'pv')
  const r = await c.d.rpc('Node', 'NodePublishVolume', publishReq(target, 'vol-noexp', { source: nfsUrl(c.g, '/no/such/export'), uid: '1234', gid: '1234' }))
  assert.is(r.code, Status.FAILED_PRECONDITION, r.details)
  assert.match(r.details, /MNT/)
  assert.not.ok(existsSync(target))
  assert.not.ok(c.d.stdout().includes('inline-pw-zz9'), 'the refused password is not logged')
})

s.test('an LDAP volume: the password only from the publish secret, never in state, logs, errors or argv; a restart keeps the identity', async (c) => {
  const target = podTarget(c.d.dirs, 'pod-l', 'pv-l')
  const context = { source: source(c), username: 'alice' }
  const wrong = await c.d.rpc('Node', 'NodePublishVolume', publishReq(target, 'vol-l', context, { secrets: { password: 'not-alices-Pw-77' } }))
  assert.is.not(wrong.code, Status.OK)
  assert.not.ok(wrong.details.includes('not-alices-Pw-77'))
  assert.not.ok(existsSync(target))
  await c.d.ok('Node', 'NodePublishVolume', publishReq(target, 'vol-l', context, { secrets: { password: ALICE_PW } }))
  const w = await runApp(c, target, 'echo ldap > /data/alice.txt && stat -c %u /data/alice.txt')
  assert.is(w.code, 0, w.stderr)
  assert.is(owner(join(c.exp, 'alice.txt')), '5001:5002')
  // The same publish again (kubelet retries) is fine without remounting.
  await c.d.ok('Node', 'NodePublishVolume', publishReq(target, 'vol-l', context, { secrets: { password: ALICE_PW } }))

  const state = readFileSync(c.d.dirs.state, 'utf8')
  assert.ok(state.includes('"username": "alice"'))
  assert.ok(state.includes('"uid": 5001'), 'the resolved identity is kept')
  for (const text of [state, c.d.stdout(), c.d.stderr(), readFileSync(`/proc/${c.d.pid}/cmdline`, 'utf8'), readFileSync(`/proc/${c.d.pid}/environ`, 'utf8')]) {
    assert.not.ok(text.includes(ALICE_PW), 'no password')
    assert.not.ok(text.includes('not-alices-Pw-77'), 'no wrong password either')
  }

  // Restarted without any secret: the volume comes back as alice's, without asking LDAP again.
  const stopped = await c.d.stop()
  assert.is(stopped.code, 0)
  assert.not.ok(isMounted(target), 'SIGTERM unmounted it')
  c.d = await startCsi({ dirs: c.d.dirs, env: c.env, args: ['--metrics', `127.0.0.1:${c.metricsPort}`, '--log-level', 'debug'] })
  await c.d.waitFor(/"event":"ready"/)
  assert.ok(isMounted(target))
  const again = await runApp(c, target, 'echo again > /data/alice2.txt')
  assert.is(again.code, 0, again.stderr)
  assert.is(owner(join(c.exp, 'alice2.txt')), '5001:5002')
  assert.not.ok(c.d.stdout().includes(ALICE_PW))
  await unpublish(c, 'vol-l', target)
})

s.test('the plugin killed and restarted under a running container: its volume is mounted again and the container keeps working', async (c) => {
  const target = podTarget(c.d.dirs, 'pod-r', 'pv-r')
  await c.d.ok('Node', 'NodePublishVolume', publishReq(target, 'vol-r', { source: source(c), uid: '1236', gid: '1236' }))
  const holder = (await c.dockerd.dockerOk(['run', '-d', '--network', 'none', '-u', '2000:2000', '-v', `${target}:/data`, c.image, 'sh', '-c', 'cd /data && sleep 600'])).stdout.trim()
  const reader = (await c.dockerd.dockerOk(['run', '-d', '--network', 'none', '-u', '2000:2000', '-v', `${target}:/data:ro`, c.image, 'sleep', '600'])).stdout.trim()
  const w = await c.dockerd.docker(['exec', holder, 'sh', '-c', 'echo before > /data/r.txt'])
  assert.is(w.code, 0, w.stderr)

  // A crash, not a clean stop: the mount is left dead everywhere.
  c.d.kill('SIGKILL')
  await c.d.exited
  const dead = await c.dockerd.docker(['exec', holder, 'cat', '/data/r.txt'])
  assert.is.not(dead.code, 0, 'dead while no plugin runs')

  c.d = await startCsi({ dirs: c.d.dirs, env: c.env, args: ['--metrics', `127.0.0.1:${c.metricsPort}`, '--log-level', 'debug'] })
  await c.d.waitFor(/"event":"ready"/)
  assert.ok(isMounted(target))
  await c.d.waitFor(/"event":"reattach"/)
  assert.match(c.d.stdout(), /"event":"stale-mount"/)
  const ex = await c.dockerd.docker(['exec', holder, 'sh', '-c', 'cat /data/r.txt && echo after > /data/r2.txt && stat -c %u:%g /data/r2.txt'])
  assert.is(ex.code, 0, ex.stderr)
  assert.is(ex.stdout, 'before\n2000:2000\n')
  assert.is(owner(join(c.exp, 'r2.txt')), '1236:1236')
  const ro = await c.dockerd.docker(['exec', reader, 'sh', '-c', 'cat /data/r2.txt; touch /data/nope'])
  assert.is(ro.stdout, 'after\n')
  assert.match(ro.stderr, /Read-only file system/)
  await c.dockerd.dockerOk(['rm', '-f', holder, reader])
  await unpublish(c, 'vol-r', target)
})

s.run()

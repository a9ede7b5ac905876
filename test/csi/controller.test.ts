// mapnfs csi's Controller service against a real nfs-ganesha, as external-provisioner drives it
// (--extra-create-metadata): each volume a subdirectory of the StorageClass's export, made through
// NFS as uid:gid so the server owns it so, published by the Node service at a pod's target, and
// removed, kept or archived on delete.
import * as assert from 'uvu/assert'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsUrl, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { owner } from '../fixtures/expect.js'
import { shAs } from '../fixtures/mount.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { mountCapability, podTarget, runInPod, startCsi, Status, type CsiDaemon, type Msg } from '../fixtures/csi.js'

interface Ctx {
  g: Ganesha
  exp: string
  d: CsiDaemon
}

const s = fixtureSuite<Ctx>('mapnfs csi: the Controller service on ganesha', async (defer) => {
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const d = await startCsi({ args: ['--controller'] })
  defer(async () => {
    const r = await d.stop()
    if (r.code !== 0) throw new Error(`mapnfs csi exited ${r.code}: ${r.stderr}`)
  })
  return { g, exp, d }
})

/** A CreateVolume as external-provisioner sends it for PVC NAMESPACE/PVC. */
function provision(c: Ctx, pvc: string, params: Record<string, string>, namespace = 'team-a'): Msg {
  return {
    name: `pvc-${pvc}-uid`,
    volume_capabilities: [mountCapability('MULTI_NODE_MULTI_WRITER')],
    capacity_range: { required_bytes: String(5 * 1024 ** 3), limit_bytes: '0' },
    parameters: {
      source: nfsUrl(c.g, c.exp),
      ...params,
      'csi.storage.k8s.io/pvc/name': pvc,
      'csi.storage.k8s.io/pvc/namespace': namespace,
      'csi.storage.k8s.io/pv/name': `pvc-${pvc}-uid`,
    },
  }
}

s.test('CreateVolume makes NAMESPACE-PVC owned by uid:gid on the server; the volume publishes there and a pod writes as that identity', async (c) => {
  const r = await c.d.ok('Controller', 'CreateVolume', provision(c, 'data', { uid: '1234', gid: '1235', cache: 'true' }))
  const v = r.volume as { volume_id: string; volume_context: Record<string, string>; capacity_bytes: string }
  const dir = join(c.exp, 'team-a-data')
  assert.ok(statSync(dir).isDirectory())
  assert.is(owner(dir), '1234:1235')
  assert.is(statSync(dir).mode & 0o777, 0o755)
  assert.is(v.volume_id, `nfs://127.0.0.1:${c.g.nfsPort}${c.exp}?mountport=${c.g.mountPort}#team-a-data#1234:1235#delete`)
  // The node needs nothing but the context: the subdirectory as source, the identity, the StorageClass's options.
  assert.equal(v.volume_context, { source: `nfs://127.0.0.1:${c.g.nfsPort}${c.exp}/team-a-data?mountport=${c.g.mountPort}`, uid: '1234', gid: '1235', cache: 'true' })

  const target = podTarget(c.d.dirs, 'pod-c', 'pv-c')
  await c.d.ok('Node', 'NodePublishVolume', { volume_id: v.volume_id, target_path: target, volume_capability: mountCapability('MULTI_NODE_MULTI_WRITER'), volume_context: { ...v.volume_context, 'storage.kubernetes.io/csiProvisionerIdentity': '1700000000000-1234-csi.mapnfs.io' } })
  const w = await runInPod(target, 2000, 2000, 'echo in-volume > data/f.txt && stat -c %u:%g data/f.txt')
  assert.is(w.stdout, '2000:2000\n', w.stderr)
  assert.is(owner(join(dir, 'f.txt')), '1234:1235')
  await c.d.ok('Node', 'NodeUnpublishVolume', { volume_id: v.volume_id, target_path: target })

  // Deleted (onDelete defaults to delete): the directory and what it held are gone.
  await c.d.ok('Controller', 'DeleteVolume', { volume_id: v.volume_id })
  assert.not.ok(existsSync(dir))
})

s.test('onDelete=retain keeps the directory, onDelete=archive renames it archived-NAME (then archived-NAME-TIME)', async (c) => {
  const kept = (await c.d.ok('Controller', 'CreateVolume', provision(c, 'kept', { uid: '1234', gid: '1234', onDelete: 'retain' }))).volume as Msg
  writeFileSync(join(c.exp, 'team-a-kept', 'x'), 'x')
  await c.d.ok('Controller', 'DeleteVolume', { volume_id: kept.volume_id })
  assert.ok(existsSync(join(c.exp, 'team-a-kept', 'x')))

  for (let round = 0; round < 2; round++) {
    const v = (await c.d.ok('Controller', 'CreateVolume', provision(c, 'old', { uid: '1234', gid: '1234', onDelete: 'archive' }))).volume as Msg
    await shAs(1234, 1234, `echo round${round} > ${join(c.exp, 'team-a-old', 'data.txt')}`)
    await c.d.ok('Controller', 'DeleteVolume', { volume_id: v.volume_id })
    assert.not.ok(existsSync(join(c.exp, 'team-a-old')))
  }
  const archived = readdirSync(c.exp).filter((n) => n.startsWith('archived-team-a-old')).sort()
  assert.is(archived.length, 2, archived.join(' '))
  assert.is(archived[0], 'archived-team-a-old')
  assert.match(archived[1]!, /^archived-team-a-old-\d{8}T\d{6}Z$/)
})

s.test('a subDir pattern; the same name again is the same volume; a directory owned by another identity is ALREADY_EXISTS', async (c) => {
  const req = provision(c, 'logs', { uid: '1300', gid: '1300', subDir: 'apps-${pvc.metadata.name}-${pv.metadata.name}' })
  const a = (await c.d.ok('Controller', 'CreateVolume', req)).volume as Msg
  const b = (await c.d.ok('Controller', 'CreateVolume', req)).volume as Msg
  assert.is(a.volume_id, b.volume_id)
  assert.is(owner(join(c.exp, 'apps-logs-pvc-logs-uid')), '1300:1300')
  const clash = await c.d.rpc('Controller', 'CreateVolume', provision(c, 'logs', { uid: '1301', gid: '1301', subDir: 'apps-${pvc.metadata.name}-${pv.metadata.name}' }))
  assert.is(clash.code, Status.ALREADY_EXISTS)
  assert.match(clash.details, /1300/)
  await c.d.ok('Controller', 'DeleteVolume', { volume_id: a.volume_id })
})

s.test('bad StorageClass parameters are INVALID_ARGUMENT with a clear text, and make nothing', async (c) => {
  const before = readdirSync(c.exp).sort()
  const cases: [Record<string, string>, RegExp][] = [
    [{ uid: '1234' }, /'uid' and 'gid' are required/],
    [{ uid: '0', gid: '0' }, /Invalid 'uid' option \(0, negative, or non-integer\)/],
    [{ uid: '1234', gid: '1234', onDelete: 'shred' }, /Invalid 'onDelete' parameter 'shred'/],
    [{ uid: '1234', gid: '1234', subDir: '${pvc.annotations.x}' }, /pattern names \$\{pvc.annotations.x\}/],
    [{ uid: '1234', gid: '1234', subDir: '../escape' }, /not a single directory name/],
    [{ uid: '1234', gid: '1234', cache: 'perhaps' }, /StorageClass parameters: Invalid 'cache' option/],
    [{ uid: '1234', gid: '1234', source: 'nfs://' }, /Invalid 'share' option/],
  ]
  for (const [params, want] of cases) {
    const r = await c.d.rpc('Controller', 'CreateVolume', provision(c, 'bad', params))
    assert.is(r.code, Status.INVALID_ARGUMENT, `${JSON.stringify(params)}: ${r.details}`)
    assert.match(r.details, want)
  }
  const noSource = await c.d.rpc('Controller', 'CreateVolume', { name: 'x', volume_capabilities: [mountCapability()], parameters: { uid: '1234', gid: '1234' } })
  assert.is(noSource.code, Status.INVALID_ARGUMENT)
  assert.match(noSource.details, /'source' is missing/)
  assert.equal(readdirSync(c.exp).sort(), before)
})

s.test('an export the identity may not write: the server\'s answer, clearly', async (c) => {
  const ro = join(c.exp, 'locked')
  await shAs(1400, 1400, `mkdir -m 0755 ${ro}`)
  const r = await c.d.rpc('Controller', 'CreateVolume', {
    name: 'pvc-locked', volume_capabilities: [mountCapability()],
    parameters: { source: nfsUrl(c.g, c.exp).replace(c.exp, ro), uid: '1401', gid: '1401' },
  })
  assert.is.not(r.code, Status.OK)
  assert.match(r.details, /EACCES/)
  assert.not.ok(existsSync(join(ro, 'pvc-locked')))
})

s.run()

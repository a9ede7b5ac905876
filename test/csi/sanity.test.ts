// The CSI sanity suite's cases (kubernetes-csi/csi-test, pkg/sanity v5.4.0), one test each, named
// as csi-sanity prints them, spoken over the plugin's real unix socket with a gRPC client built
// from the same csi.proto, against a real nfs-ganesha. csi-sanity itself is Go and its modules
// cannot be fetched here; these send what it sends and assert what it asserts (stricter where the
// answer is ours to know). Cases csi-sanity skips for a capability mapnfs does not announce
// (staging, expansion, ListVolumes, GetCapacity, ControllerPublish, snapshots) are checked to be
// UNIMPLEMENTED and unannounced, which is what makes csi-sanity skip them.
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { makeExportDir, nfsUrl, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { isMounted } from '../fixtures/proc.js'
import { mountCount } from '../fixtures/mount.js'
import { fixtureSuite } from '../fixtures/suite.js'
import { mountCapability, startCsi, Status, type CsiDaemon, type Msg } from '../fixtures/csi.js'

const GiB = 1024 ** 3
const TEST_VOLUME_SIZE = String(10 * GiB)

interface Ctx {
  g: Ganesha
  exp: string
  d: CsiDaemon
  /** csi-sanity's --csi.mountdir: it makes this directory, the plugin makes TARGET under it. */
  mountDir: string
  target: string
  params: Record<string, string>
  made: string[]
}

const s = fixtureSuite<Ctx>('csi-sanity cases', async (defer) => {
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  const d = await startCsi({ args: ['--controller', '--log-level', 'debug'] })
  const ctx: Ctx = { g, exp, d, mountDir: '', target: '', params: { source: nfsUrl(g, exp), uid: '1234', gid: '1234' }, made: [] }
  defer(async () => {
    // csi-sanity's cleanup: unpublish and delete whatever a test left.
    for (const id of ctx.made.reverse()) {
      await d.rpc('Node', 'NodeUnpublishVolume', { volume_id: id, target_path: ctx.target })
      await d.rpc('Controller', 'DeleteVolume', { volume_id: id })
    }
    const r = await d.stop()
    if (r.code !== 0) throw new Error(`mapnfs csi exited ${r.code}: ${r.stderr}`)
  })
  // Under the plugin's --mount-root, as kubelet's pod directories are.
  ctx.mountDir = join(d.dirs.kubelet, 'csi-mount')
  ctx.target = join(ctx.mountDir, 'target')
  return ctx
})

function createReq(c: Ctx, name: string, extra: Msg = {}): Msg {
  return { name, volume_capabilities: [mountCapability()], capacity_range: { required_bytes: TEST_VOLUME_SIZE, limit_bytes: '0' }, parameters: c.params, ...extra }
}

async function createVolume(c: Ctx, name: string): Promise<Msg> {
  const r = await c.d.ok('Controller', 'CreateVolume', createReq(c, name))
  const v = r.volume as Msg
  c.made.push(v.volume_id as string)
  return v
}

function publishReq(c: Ctx, v: Msg, extra: Msg = {}): Msg {
  return { volume_id: v.volume_id, target_path: c.target, volume_capability: mountCapability(), volume_context: v.volume_context, readonly: false, ...extra }
}

/** csi-sanity's per-test setup: mkdir of its mount directory (fails if a test left it). */
function setup(c: Ctx): void {
  mkdirSync(c.mountDir, { mode: 0o755 })
}

/** ... and its teardown: rmdir, which only works if the plugin removed TARGET. */
async function teardown(c: Ctx, v?: Msg): Promise<void> {
  if (v !== undefined) {
    const un = await c.d.rpc('Node', 'NodeUnpublishVolume', { volume_id: v.volume_id, target_path: c.target })
    assert.ok(un.code === Status.OK || un.code === Status.NOT_FOUND, un.details)
    await c.d.ok('Controller', 'DeleteVolume', { volume_id: v.volume_id })
    c.made = c.made.filter((id) => id !== v.volume_id)
  }
  rmdirSync(c.mountDir)
}

async function code(c: Ctx, service: 'Identity' | 'Node' | 'Controller', method: string, req: Msg): Promise<number> {
  return (await c.d.rpc(service, method, req)).code
}

// Identity Service

s.test('Identity Service GetPluginCapabilities should return appropriate capabilities', async (c) => {
  const r = await c.d.ok('Identity', 'GetPluginCapabilities')
  assert.equal(r.capabilities, [{ service: { type: 'CONTROLLER_SERVICE' }, type: 'service' }])
  // A node-only plugin announces no controller (csi-sanity then needs -ginkgo.skip='\[Controller.Server\]').
  const nodeOnly = await startCsi()
  try {
    assert.equal((await nodeOnly.ok('Identity', 'GetPluginCapabilities')).capabilities, [])
    assert.is((await nodeOnly.rpc('Controller', 'CreateVolume', createReq(c, 'x'))).code, Status.UNIMPLEMENTED)
  } finally {
    assert.is((await nodeOnly.stop()).code, 0)
  }
})

s.test('Identity Service Probe should return appropriate information', async (c) => {
  const r = await c.d.ok('Identity', 'Probe')
  assert.equal(r.ready, { value: true })
})

s.test('Identity Service GetPluginInfo should return appropriate information', async (c) => {
  const r = await c.d.ok('Identity', 'GetPluginInfo')
  const name = r.name as string
  assert.ok(name.length <= 63)
  assert.match(name, /^[a-zA-Z][A-Za-z0-9-._]{0,61}[a-zA-Z]$/)
  assert.is(name, 'csi.mapnfs.io')
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  assert.is(r.vendor_version, pkg.version)
})

// Node Service

s.test('Node Service NodeGetCapabilities should return appropriate capabilities', async (c) => {
  const r = await c.d.ok('Node', 'NodeGetCapabilities')
  assert.equal((r.capabilities as { rpc: { type: string } }[]).map((x) => x.rpc.type), ['GET_VOLUME_STATS', 'VOLUME_CONDITION'])
})

s.test('Node Service NodeGetInfo should return appropriate values', async (c) => {
  const r = await c.d.ok('Node', 'NodeGetInfo')
  assert.is(r.node_id, 'node-1')
  assert.is(r.max_volumes_per_node, '0')
})

s.test('Node Service NodePublishVolume should fail when no volume id is provided', async (c) => {
  const r = await c.d.rpc('Node', 'NodePublishVolume', { secrets: {} })
  assert.is(r.code, Status.INVALID_ARGUMENT)
  assert.match(r.details, /volume_id is missing/)
})

s.test('Node Service NodePublishVolume should fail when no target path is provided', async (c) => {
  const r = await c.d.rpc('Node', 'NodePublishVolume', { volume_id: 'fake-vol-id-0123456789', secrets: {} })
  assert.is(r.code, Status.INVALID_ARGUMENT)
  assert.match(r.details, /target_path is missing/)
})

s.test('Node Service NodePublishVolume should fail when no volume capability is provided', async (c) => {
  setup(c)
  const r = await c.d.rpc('Node', 'NodePublishVolume', { volume_id: 'fake-vol-id-0123456789', target_path: c.target, secrets: {} })
  assert.is(r.code, Status.INVALID_ARGUMENT, 'arguments are checked before the (unknown) volume is looked at')
  assert.match(r.details, /volume_capability is missing/)
  assert.not.ok(existsSync(c.target))
  await teardown(c)
})

s.test('Node Service NodeUnpublishVolume should fail when no volume id is provided', async (c) => {
  assert.is(await code(c, 'Node', 'NodeUnpublishVolume', {}), Status.INVALID_ARGUMENT)
})

s.test('Node Service NodeUnpublishVolume should fail when no target path is provided', async (c) => {
  assert.is(await code(c, 'Node', 'NodeUnpublishVolume', { volume_id: 'fake-vol-id-0123456789' }), Status.INVALID_ARGUMENT)
})

s.test('Node Service NodeUnpublishVolume should remove target path', async (c) => {
  setup(c)
  const v = await createVolume(c, 'sanity-node-unpublish-volume')
  await c.d.ok('Node', 'NodePublishVolume', publishReq(c, v))
  assert.ok(statSync(c.target).isDirectory(), 'created by the plugin')
  assert.ok(isMounted(c.target))
  await c.d.ok('Node', 'NodeUnpublishVolume', { volume_id: v.volume_id, target_path: c.target })
  assert.not.ok(existsSync(c.target), 'removed by the plugin')
  await teardown(c, v)
})

s.test('Node Service NodeStageVolume, NodeUnstageVolume, NodeExpandVolume: skipped by csi-sanity (not announced, UNIMPLEMENTED)', async (c) => {
  const caps = ((await c.d.ok('Node', 'NodeGetCapabilities')).capabilities as { rpc: { type: string } }[]).map((x) => x.rpc.type)
  assert.not.ok(caps.includes('STAGE_UNSTAGE_VOLUME') || caps.includes('EXPAND_VOLUME'))
  assert.is(await code(c, 'Node', 'NodeStageVolume', { volume_id: 'v', staging_target_path: '/tmp/x', volume_capability: mountCapability() }), Status.UNIMPLEMENTED)
  assert.is(await code(c, 'Node', 'NodeUnstageVolume', { volume_id: 'v', staging_target_path: '/tmp/x' }), Status.UNIMPLEMENTED)
  assert.is(await code(c, 'Node', 'NodeExpandVolume', { volume_id: 'v', volume_path: '/tmp/x' }), Status.UNIMPLEMENTED)
})

s.test('Node Service NodeGetVolumeStats should fail when no volume id is provided', async (c) => {
  assert.is(await code(c, 'Node', 'NodeGetVolumeStats', { volume_path: 'some/path' }), Status.INVALID_ARGUMENT)
})

s.test('Node Service NodeGetVolumeStats should fail when no volume path is provided', async (c) => {
  assert.is(await code(c, 'Node', 'NodeGetVolumeStats', { volume_id: 'fake-vol-id-0123456789' }), Status.INVALID_ARGUMENT)
})

s.test('Node Service NodeGetVolumeStats should fail when volume is not found', async (c) => {
  assert.is(await code(c, 'Node', 'NodeGetVolumeStats', { volume_id: 'fake-vol-id-0123456789', volume_path: 'some/path' }), Status.NOT_FOUND)
})

s.test('Node Service NodeGetVolumeStats should fail when volume does not exist on the specified path', async (c) => {
  setup(c)
  const v = await createVolume(c, 'sanity-node-get-volume-stats')
  await c.d.ok('Node', 'NodePublishVolume', publishReq(c, v))
  const r = await c.d.rpc('Node', 'NodeGetVolumeStats', { volume_id: v.volume_id, volume_path: 'some/path' })
  assert.is(r.code, Status.NOT_FOUND)
  assert.match(r.details, /is not published at some\/path/)
  await teardown(c, v)
})

s.test('Node Service should work', async (c) => {
  setup(c)
  const v = await createVolume(c, 'sanity-node-full-1')
  await c.d.ok('Node', 'NodePublishVolume', publishReq(c, v))
  const st = await c.d.ok('Node', 'NodeGetVolumeStats', { volume_id: v.volume_id, volume_path: c.target })
  const usage = st.usage as { unit: string; total: string }[]
  assert.equal(usage.map((u) => u.unit), ['BYTES', 'INODES'])
  assert.ok(Number(usage[0]!.total) > 0)
  assert.is((st.volume_condition as { abnormal: boolean }).abnormal, false)
  await teardown(c, v)
})

s.test('Node Service should be idempotent', async (c) => {
  setup(c)
  const v = await createVolume(c, 'sanity-node-full-10')
  for (let i = 0; i < 10; i++) await c.d.ok('Node', 'NodePublishVolume', publishReq(c, v))
  assert.is(mountCount(c.target), 1, 'ten identical publishes, one mount')
  await c.d.ok('Node', 'NodeGetVolumeStats', { volume_id: v.volume_id, volume_path: c.target })
  // The same target for another volume, or with other options, is refused.
  const other = await c.d.rpc('Node', 'NodePublishVolume', publishReq(c, { ...v, volume_id: `${v.volume_id as string}-other` }))
  assert.is(other.code, Status.ALREADY_EXISTS)
  const ro = await c.d.rpc('Node', 'NodePublishVolume', publishReq(c, v, { readonly: true }))
  assert.is(ro.code, Status.ALREADY_EXISTS)
  for (let i = 0; i < 3; i++) await c.d.ok('Node', 'NodeUnpublishVolume', { volume_id: v.volume_id, target_path: c.target })
  assert.not.ok(isMounted(c.target))
  await teardown(c, v)
})

// Controller Service [Controller Server]

s.test('Controller Service [Controller Server] ControllerGetCapabilities should return appropriate capabilities', async (c) => {
  const r = await c.d.ok('Controller', 'ControllerGetCapabilities')
  assert.equal((r.capabilities as { rpc: { type: string } }[]).map((x) => x.rpc.type), ['CREATE_DELETE_VOLUME'])
  // What csi-sanity skips for want of a capability answers UNIMPLEMENTED.
  for (const m of ['ListVolumes', 'GetCapacity', 'ControllerPublishVolume', 'ControllerUnpublishVolume', 'CreateSnapshot', 'ControllerExpandVolume', 'ControllerModifyVolume']) {
    assert.is(await code(c, 'Controller', m, {}), Status.UNIMPLEMENTED, m)
  }
})

s.test('Controller Service [Controller Server] CreateVolume should fail when no name is provided', async (c) => {
  const r = await c.d.rpc('Controller', 'CreateVolume', { parameters: c.params, secrets: {} })
  assert.is(r.code, Status.INVALID_ARGUMENT)
  assert.match(r.details, /name is missing/)
})

s.test('Controller Service [Controller Server] CreateVolume should fail when no volume capabilities are provided', async (c) => {
  const r = await c.d.rpc('Controller', 'CreateVolume', { name: 'sanity-controller-create-no-volume-capabilities', parameters: c.params })
  assert.is(r.code, Status.INVALID_ARGUMENT)
  assert.match(r.details, /volume_capabilities is missing/)
  assert.not.ok(existsSync(join(c.exp, 'sanity-controller-create-no-volume-capabilities')))
})

s.test('Controller Service [Controller Server] CreateVolume should return appropriate values SingleNodeWriter NoCapacity', async (c) => {
  const v = await createVolume(c, 'sanity-controller-create-single-no-capacity')
  assert.ok((v.volume_id as string).length > 0)
  assert.ok(statSync(join(c.exp, 'sanity-controller-create-single-no-capacity')).isDirectory())
})

s.test('Controller Service [Controller Server] CreateVolume should return appropriate values SingleNodeWriter WithCapacity 1Gi', async (c) => {
  const v = await createVolume(c, 'sanity-controller-create-single-with-capacity')
  // 0: unknown, as the spec has it for NFS shares (NFSv3 enforces no size); the provisioner keeps the request.
  assert.is(v.capacity_bytes, '0')
})

s.test('Controller Service [Controller Server] CreateVolume should not fail when requesting to create a volume with already existing name and same capacity', async (c) => {
  const a = await createVolume(c, 'sanity-controller-create-twice')
  const b = await createVolume(c, 'sanity-controller-create-twice')
  assert.is(a.volume_id, b.volume_id)
  assert.equal(a.volume_context, b.volume_context)
})

s.test('Controller Service [Controller Server] CreateVolume should fail when requesting to create a volume with already existing name and different capacity (csi-sanity skips it: capacity 0 is unknown)', async (c) => {
  const req = createReq(c, 'sanity-controller-create-twice-different', { capacity_range: { required_bytes: TEST_VOLUME_SIZE, limit_bytes: TEST_VOLUME_SIZE } })
  const a = (await c.d.ok('Controller', 'CreateVolume', req)).volume as Msg
  c.made.push(a.volume_id as string)
  assert.is(a.capacity_bytes, '0', 'the skip condition csi-sanity checks')
  // No capacity is enforced, so no request is incompatible with the volume's; a limit below the requirement is refused.
  const bad = await c.d.rpc('Controller', 'CreateVolume', { ...req, capacity_range: { required_bytes: String(20 * GiB), limit_bytes: String(10 * GiB) } })
  assert.is(bad.code, Status.INVALID_ARGUMENT)
})

s.test('Controller Service [Controller Server] CreateVolume should not fail when creating volume with maximum-length name', async (c) => {
  const name = 'sanity-controller-max-name-'.padEnd(128, 'a')
  const v = await createVolume(c, name)
  assert.ok(statSync(join(c.exp, name)).isDirectory())
  assert.ok((v.volume_id as string).includes(name))
})

s.test('Controller Service [Controller Server] DeleteVolume should fail when no volume id is provided', async (c) => {
  assert.is(await code(c, 'Controller', 'DeleteVolume', { secrets: {} }), Status.INVALID_ARGUMENT)
})

s.test('Controller Service [Controller Server] DeleteVolume should succeed when an invalid volume id is used', async (c) => {
  assert.is(await code(c, 'Controller', 'DeleteVolume', { volume_id: 'fake-vol-id' }), Status.OK)
})

s.test('Controller Service [Controller Server] DeleteVolume should return appropriate values (no optional values added)', async (c) => {
  const v = await createVolume(c, 'sanity-controller-delete-volume')
  const dir = join(c.exp, 'sanity-controller-delete-volume')
  assert.ok(existsSync(dir))
  assert.equal(await c.d.ok('Controller', 'DeleteVolume', { volume_id: v.volume_id }), {})
  assert.not.ok(existsSync(dir))
  // Deleting again (csi-sanity's cleanup does) is fine.
  assert.equal(await c.d.ok('Controller', 'DeleteVolume', { volume_id: v.volume_id }), {})
  c.made = c.made.filter((id) => id !== v.volume_id)
})

s.test('Controller Service [Controller Server] ValidateVolumeCapabilities should fail when no volume id is provided', async (c) => {
  assert.is(await code(c, 'Controller', 'ValidateVolumeCapabilities', { volume_capabilities: [mountCapability()] }), Status.INVALID_ARGUMENT)
})

s.test('Controller Service [Controller Server] ValidateVolumeCapabilities should fail when no volume capabilities are provided', async (c) => {
  const v = await createVolume(c, 'sanity-controller-validate-nocaps')
  assert.is(await code(c, 'Controller', 'ValidateVolumeCapabilities', { volume_id: v.volume_id }), Status.INVALID_ARGUMENT)
})

s.test('Controller Service [Controller Server] ValidateVolumeCapabilities should return appropriate values (no optional values added)', async (c) => {
  const v = await createVolume(c, 'sanity-controller-validate')
  const r = await c.d.ok('Controller', 'ValidateVolumeCapabilities', { volume_id: v.volume_id, volume_capabilities: [mountCapability()] })
  assert.ok(r.confirmed !== null && typeof r.confirmed === 'object')
  // Block is not offered: not confirmed, with the reason.
  const block = await c.d.ok('Controller', 'ValidateVolumeCapabilities', { volume_id: v.volume_id, volume_capabilities: [{ block: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } }] })
  assert.is(block.confirmed, null)
  assert.match(block.message as string, /block access is not offered/)
})

s.test('Controller Service [Controller Server] ValidateVolumeCapabilities should fail when the requested volume does not exist', async (c) => {
  assert.is(await code(c, 'Controller', 'ValidateVolumeCapabilities', { volume_id: 'some-vol-id', volume_capabilities: [mountCapability()] }), Status.NOT_FOUND)
  // A well-formed ID whose directory is gone.
  const v = await createVolume(c, 'sanity-controller-validate-gone')
  await c.d.ok('Controller', 'DeleteVolume', { volume_id: v.volume_id })
  assert.is(await code(c, 'Controller', 'ValidateVolumeCapabilities', { volume_id: v.volume_id, volume_capabilities: [mountCapability()] }), Status.NOT_FOUND)
})

s.test('Controller Service [Controller Server] volume lifecycle should work', async (c) => {
  setup(c)
  const v = await createVolume(c, 'sanity-controller-lifecycle')
  await c.d.ok('Node', 'NodePublishVolume', publishReq(c, v))
  await c.d.ok('Node', 'NodeUnpublishVolume', { volume_id: v.volume_id, target_path: c.target })
  await teardown(c, v)
  assert.not.ok(existsSync(join(c.exp, 'sanity-controller-lifecycle')))
})

s.test('Controller Service [Controller Server] volume lifecycle should be idempotent', async (c) => {
  setup(c)
  const v = await createVolume(c, 'sanity-controller-lifecycle-10')
  for (let i = 0; i < 10; i++) await createVolume(c, 'sanity-controller-lifecycle-10')
  for (let i = 0; i < 10; i++) await c.d.ok('Node', 'NodePublishVolume', publishReq(c, v))
  for (let i = 0; i < 10; i++) await c.d.ok('Node', 'NodeUnpublishVolume', { volume_id: v.volume_id, target_path: c.target })
  for (let i = 0; i < 10; i++) await c.d.ok('Controller', 'DeleteVolume', { volume_id: v.volume_id })
  c.made = c.made.filter((id) => id !== v.volume_id)
  await teardown(c)
})

s.test('the socket is root only (mode 0600)', async (c) => {
  assert.ok(statSync(c.d.dirs.socket).isSocket())
  assert.is(statSync(c.d.dirs.socket).mode & 0o777, 0o600)
})

s.run()

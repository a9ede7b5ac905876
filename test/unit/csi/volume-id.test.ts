import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseSource } from '../../../src/mount/options.js'
import { formatVolumeId, parseVolumeId, subdirSource } from '../../../src/csi/volume-id.js'
import { checkCapability, parsePublish } from '../../../src/csi/publish-request.js'
import { CsiError } from '../../../src/csi/errors.js'

test('a provisioned volume ID reads back as what made it, ports and IPv6 included', () => {
  for (const src of ['nfs://10.0.0.5/exports/apps', 'nfs://[fd00::5]:2050/exp?mountport=20048', 'nfs://h:2049/a%20b']) {
    const v = { export: parseSource(src), subdir: 'team-a-data', uid: 1234, gid: 1235, onDelete: 'archive' as const }
    const id = formatVolumeId(v)
    assert.equal(parseVolumeId(id, parseSource), v, id)
  }
  assert.is(subdirSource(parseSource('nfs://[fd00::5]:2050/exp/?mountport=1'), 'x'), 'nfs://[fd00::5]:2050/exp/x?mountport=1')
})

test('IDs this controller did not make read as null, never as a volume to delete', () => {
  for (const id of ['fake-vol-id', '', 'nfs://h/e#sub#1234:1234', 'nfs://h/e#..#1:1#delete', 'nfs://h/e#s#0:5#delete', 'nfs://h/e#s#1:1#shred', 'nfs://h/e#a/b#1:1#delete', 'nope#s#1:1#delete']) {
    assert.is(parseVolumeId(id, parseSource), null, id)
  }
})

test('capabilities: block and unknown modes refused; reader-only modes mean read-only', () => {
  assert.throws(() => checkCapability(null), (e: unknown) => e instanceof CsiError && /volume_capability is missing/.test(e.message))
  assert.throws(() => checkCapability({ block: {}, mount: null, access_mode: { mode: 'SINGLE_NODE_WRITER' } }), /block access is not offered/)
  assert.throws(() => checkCapability({ mount: { fs_type: 'ext4' }, access_mode: { mode: 'SINGLE_NODE_WRITER' } }), /fs_type "ext4"/)
  assert.throws(() => checkCapability({ mount: {}, access_mode: { mode: 'UNKNOWN' } }), /no access mode/)
  assert.is(checkCapability({ mount: {}, access_mode: { mode: 'MULTI_NODE_READER_ONLY' } }).readerOnly, true)
  assert.is(checkCapability({ mount: {}, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } }).readerOnly, false)
})

test('a publish: kubelet\'s keys are pod facts, mountOptions merge in, the password stays out of the options', () => {
  const r = parsePublish({
    volume_id: 'v', target_path: '/var/lib/kubelet/pods/p/volumes/kubernetes.io~csi/pv/mount',
    volume_capability: { mount: { fs_type: '', mount_flags: ['cache', 'nconnect=2'] }, access_mode: { mode: 'SINGLE_NODE_WRITER' } },
    volume_context: { source: 'nfs://h/e', username: 'alice', 'csi.storage.k8s.io/pod.name': 'app', 'csi.storage.k8s.io/pod.namespace': 'ns', 'storage.kubernetes.io/csiProvisionerIdentity': 'x' },
    secrets: { password: 'pw-1' }, readonly: true,
  }, '/var/lib/kubelet')
  assert.equal(r.opts, { source: 'nfs://h/e', username: 'alice', cache: '', nconnect: '2', ro: '' })
  assert.equal(r.pod, { name: 'app', namespace: 'ns' })
  assert.is(r.password, 'pw-1')
  assert.is(r.mount.readonly, true)
  assert.is(r.mount.nconnect, 2)
  assert.not.ok(JSON.stringify(r.opts).includes('pw-1'))
})

test.run()

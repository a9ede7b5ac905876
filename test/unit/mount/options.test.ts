import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { defaultWorkers, parseMountArgs, parseSource, parseVolumeOptions, serverLocks, UsageError } from '../../../src/mount/options.js'

const fails = (args: string[], text: string | RegExp): void => {
  assert.throws(() => parseMountArgs(args), (e: unknown) => e instanceof Error && (typeof text === 'string' ? e.message === text : text.test(e.message)) ,
    `${args.join(' ')} should fail with ${String(text)}`)
}

test('sources: URL and host:/path forms', () => {
  assert.equal(parseSource('nfs://127.0.0.1:2050/srv/x?mountport=2051'), { host: '127.0.0.1', port: 2050, mountPort: 2051, export: '/srv/x' })
  assert.equal(parseSource('server:/export'), { host: 'server', export: '/export' })
  assert.equal(parseSource('nfs://h/a%20b'), { host: 'h', export: '/a b' })
  // libnfs's form: the NFS port as a query parameter (the same port twice is fine, two are not).
  assert.equal(parseSource('nfs://127.0.0.1/srv/x?version=3&nfsport=2050&mountport=2051'), { host: '127.0.0.1', port: 2050, mountPort: 2051, export: '/srv/x' })
  assert.equal(parseSource('nfs://h:2050/x?nfsport=2050'), { host: 'h', port: 2050, export: '/x' })
  assert.throws(() => parseSource('nfs://h:2050/x?nfsport=2049'), /names two NFS ports/)
  assert.throws(() => parseSource('nfs://h/x?nfsport=0'), /Invalid 'nfsport' option/)
  for (const bad of ['nfs:///export', ':/x', 'host', 'host:relative', 'nfs://', 'nfs://h:99999/x']) {
    assert.throws(() => parseSource(bad), (e: unknown) => e instanceof UsageError && /Invalid 'share' option|port/.test(e.message), bad)
  }
})

test('-o and long flags give the same options', () => {
  const a = parseMountArgs(['h:/e', '/mnt', '-o', 'uid=1234,gid=1235,nfsport=2049,mountport=20048,noresvport,timeo=20,retrans=1,stats'])
  const b = parseMountArgs(['h:/e', '/mnt', '--uid', '1234', '--gid=1235', '--nfsport', '2049', '--mountport', '20048', '--noresvport', '--timeo', '20', '--retrans', '1', '--stats'])
  for (const o of [a, b]) {
    assert.is(o.uid, 1234)
    assert.is(o.gid, 1235)
    assert.is(o.nfsPort, 2049)
    assert.is(o.mountPort, 20048)
    assert.is(o.resvport, false)
    assert.is(o.timeo, 20)
    assert.is(o.retrans, 1)
    assert.is(o.stats, true)
    assert.is(o.cache, false)
  }
})

test('hard is the default; soft and hard as -o flags and long flags, the last one wins', () => {
  assert.is(parseMountArgs(['h:/e', '/mnt']).hard, true)
  assert.is(parseMountArgs(['h:/e', '/mnt', '-o', 'soft']).hard, false)
  assert.is(parseMountArgs(['h:/e', '/mnt', '--soft']).hard, false)
  assert.is(parseMountArgs(['h:/e', '/mnt', '-o', 'soft,hard']).hard, true)
  assert.is(parseMountArgs(['h:/e', '/mnt', '--hard', '-o', 'soft']).hard, false)
  fails(['h:/e', '/mnt', '-o', 'hard=maybe'], "Invalid 'hard' option")
})

test('perm/noperm: undefined by default (decided at mount time), else the last flag', () => {
  assert.is(parseMountArgs(['h:/e', '/mnt']).perm, undefined)
  assert.is(parseMountArgs(['h:/e', '/mnt', '-o', 'noperm']).perm, false)
  assert.is(parseMountArgs(['h:/e', '/mnt', '--noperm', '--perm']).perm, true)
})

test('defaults: no cache, auto_cache on, resvport decided at mount time', () => {
  const o = parseMountArgs(['h:/e', '/mnt'])
  assert.is(o.cache, false)
  assert.is(o.autoCache, true)
  assert.is(o.resvport, undefined)
  assert.is(o.readonly, false)
})

test('readonly turns caching on unless cache=false was given', () => {
  assert.is(parseMountArgs(['h:/e', '/m', '-o', 'ro']).cache, true)
  assert.is(parseMountArgs(['h:/e', '/m', '--readonly']).readonly, true)
  assert.is(parseMountArgs(['h:/e', '/m', '-o', 'readonly,cache=false']).cache, false)
})

test('identity option errors use the contract texts', () => {
  fails(['h:/e', '/m', '-o', 'uid=0,gid=5'], "Invalid 'uid' option (0, negative, or non-integer)")
  fails(['h:/e', '/m', '-o', 'uid=5,gid=-1'], "Invalid 'gid' option (0, negative, or non-integer)")
  fails(['h:/e', '/m', '-o', 'uid=1.5,gid=5'], "Invalid 'uid' option (0, negative, or non-integer)")
  fails(['h:/e', '/m', '-o', 'uid=5'], "required 'gid' option is missing")
  fails(['h:/e', '/m', '-o', 'gid=5'], "required 'uid' option is missing")
  fails(['h:/e', '/m', '-o', 'cache=maybe'], "Invalid 'cache' option")
})

test('version rules', () => {
  parseMountArgs(['h:/e', '/m', '-o', 'version=3'])
  parseMountArgs(['h:/e', '/m', '-o', 'version=3.0'])
  fails(['h:/e', '/m', '-o', 'version=3.1'], 'NFSv3 does not use minor versions')
  fails(['h:/e', '/m', '-o', 'version=0'], '"version" must be a positive numeric value')
  fails(['h:/e', '/m', '-o', 'version=abc'], '"version" must be a positive numeric value')
  fails(['h:/e', '/m', '-o', 'version=-3'], '"version" must be a positive numeric value')
  fails(['h:/e', '/m', '-o', 'version=4.1'], /NFSv4 is not supported/)
})

test('unknown options, bad numbers, missing arguments, passwords on argv', () => {
  fails(['h:/e', '/m', '-o', 'bogus'], "unknown option 'bogus'")
  fails(['h:/e', '/m', '--bogus'], "unknown option 'bogus'")
  fails(['h:/e', '/m', '-x'], "unknown option '-x'")
  fails(['h:/e', '/m', '-o', 'timeo=0'], /Invalid 'timeo' option/)
  fails(['h:/e', '/m', '-o', 'retrans=99'], /Invalid 'retrans' option/)
  fails(['h:/e', '/m', '-o', 'nfsport=70000'], /Invalid 'nfsport' option/)
  fails(['h:/e'], /usage: mapnfs mount/)
  fails(['h:/e', '/m', 'extra'], "unexpected argument 'extra'")
  fails(['h:/e', '/m', '-o', 'password=hunter2'], /must not be given on the command line/)
  assert.throws(() => parseMountArgs(['h:/e', '/m', '-o', 'password=hunter2']), (e: unknown) => !(e as Error).message.includes('hunter2'))
})

test('LDAP options: username with uid/gid, missing password, password on argv', () => {
  fails(['h:/e', '/m', '-o', 'username=alice,password-file=/p,uid=5,gid=5'], 'Not allowed options: uid, gid')
  fails(['h:/e', '/m', '-o', 'username=alice,password-file=/p,gid=5'], 'Not allowed options: gid')
  fails(['h:/e', '/m', '-o', 'username=alice'], 'LDAP username is specified but LDAP password is missing')
  fails(['h:/e', '/m', '-o', 'password-file=/p'], "'password-file' needs 'username'")
  fails(['h:/e', '/m', '--username', 'alice', '--password', 'hunter2'], /must not be given on the command line/)
  const o = parseMountArgs(['h:/e', '/m', '--username', 'alice', '--password-file', '-', '--ldap-config', '/etc/x.conf'])
  assert.is(o.username, 'alice')
  assert.is(o.passwordFile, '-')
  assert.is(o.ldapConfig, '/etc/x.conf')
})

test('workers and nconnect: ranges, both spellings; workers undefined by default (decided from the cores at mount time)', () => {
  const d = parseMountArgs(['h:/e', '/m'])
  assert.is(d.workers, undefined)
  assert.is(d.nconnect, 1)
  const a = parseMountArgs(['h:/e', '/m', '-o', 'workers=0,nconnect=4'])
  assert.equal([a.workers, a.nconnect], [0, 4])
  const b = parseMountArgs(['h:/e', '/m', '--workers', '16', '--nconnect=16'])
  assert.equal([b.workers, b.nconnect], [16, 16])
  fails(['h:/e', '/m', '-o', 'workers=17'], "Invalid 'workers' option (expected an integer 0-16)")
  fails(['h:/e', '/m', '-o', 'workers'], "Invalid 'workers' option (expected an integer 0-16)")
  fails(['h:/e', '/m', '-o', 'nconnect=0'], "Invalid 'nconnect' option (expected an integer 1-16)")
  fails(['h:/e', '/m', '-o', 'nconnect=2.5'], "Invalid 'nconnect' option (expected an integer 1-16)")
})

test('defaultWorkers: inline below 8 cores (measured: the pool lost on every load on 2), one worker from 8', () => {
  assert.equal([1, 2, 4, 7].map(defaultWorkers), [0, 0, 0, 0])
  assert.equal([8, 16, 128].map(defaultWorkers), [1, 1, 1])
})

test('defaultWorkers: a whole number of workers in 0..16 for any core count, never more than the cores', () => {
  for (const cores of [1, 2, 3, 4, 8, 16, 64, 256]) {
    const w = defaultWorkers(cores)
    assert.ok(Number.isInteger(w) && w >= 0 && w <= 16 && w <= cores, `${cores} cores -> ${w}`)
  }
})


test('volume options (mapnfs serve): Docker\'s map, the CLI\'s names and texts, less what a daemon cannot take', () => {
  const v = parseVolumeOptions({ source: 'nfs://h/e', uid: '1234', gid: '1235', ro: '', nconnect: '2' }, '/var/lib/mapnfs/volumes/v')
  assert.equal([v.source, v.uid, v.gid, v.readonly, v.cache, v.nconnect, v.mountpoint], [{ host: 'h', export: '/e' }, 1234, 1235, true, true, 2, '/var/lib/mapnfs/volumes/v'])
  // -o flag arrives as "flag": "" and means the flag; share= is the platform's other name for source.
  assert.is(parseVolumeOptions({ share: 'h:/e', sync: '' }, '/m').sync, true)
  const refused = (opts: Record<string, unknown>, text: string | RegExp): void => {
    assert.throws(() => parseVolumeOptions(opts, '/m'), (e: unknown) => e instanceof Error && (typeof text === 'string' ? e.message === text : text.test(e.message)), JSON.stringify(opts))
  }
  refused({ source: 'h:/e', username: 'u', password: 'secret' }, /^a password must not be given as a volume option/)
  refused({ source: 'h:/e', username: 'u', 'password-file': '-' }, "'password-file=-' (stdin) is not possible for a volume; give a file")
  refused({ source: 'h:/e', username: 'u', 'password-file': 'pw' }, "'password-file' must be an absolute path")
  refused({ source: 'h:/e', 'ldap-config': 'x.conf' }, "'ldap-config' must be an absolute path")
  refused({ source: 'h:/e', mount: '/x' }, /^option 'mount' is not a volume option/)
  refused({ source: 'h:/e', share: 'h:/f' }, "give 'source' or 'share', not both")
  refused({ uid: '1', gid: '1' }, 'Missing mandatory options: source')
  refused({ source: 'h:/e', uid: 5, gid: '5' }, "Invalid 'uid' option (expected a string value)")
  refused({ source: 'h:/e', uid: '0', gid: '5' }, "Invalid 'uid' option (0, negative, or non-integer)")
  refused({ source: 'h:/e', uid: '', gid: '5' }, "option 'uid' needs a value")
  // A password given with others is refused by name; its value never reaches the message.
  try {
    parseVolumeOptions({ source: 'h:/e', password: 'hunter2-xyz' }, '/m')
  } catch (e) {
    assert.not.match((e as Error).message, /hunter2/)
  }
})

test('locks: local_lock=none by default (both kinds to the server); all, flock, posix, nolock and lock as nfs(5)', () => {
  const kinds = (args: string[]) => serverLocks(parseMountArgs(['h:/e', '/mnt', ...args]))
  assert.equal(kinds([]), { posix: true, flock: true })
  assert.equal(kinds(['-o', 'local_lock=all']), { posix: false, flock: false })
  assert.equal(kinds(['-o', 'local_lock=flock']), { posix: true, flock: false })
  assert.equal(kinds(['-o', 'local_lock=posix']), { posix: false, flock: true })
  assert.equal(kinds(['-o', 'nolock']), { posix: false, flock: false })
  assert.equal(kinds(['-o', 'nolock,lock']), { posix: true, flock: true })
  assert.equal(kinds(['--nolock']), { posix: false, flock: false })
  const o = parseMountArgs(['h:/e', '/mnt', '-o', 'nlmport=4045,lockdir=/srv/locks'])
  assert.is(o.nlmPort, 4045)
  assert.is(o.lockDir, '/srv/locks')
  assert.is(parseMountArgs(['h:/e', '/mnt']).lockDir, '/var/lib/mapnfs/locks')
})

test('locks: libfuse2 keeps them local (it passes no lock requests on) and refuses to promise otherwise', () => {
  assert.equal(serverLocks(parseMountArgs(['h:/e', '/mnt', '-o', 'frontend=libfuse2'])), { posix: false, flock: false })
  assert.equal(serverLocks(parseMountArgs(['h:/e', '/mnt', '-o', 'frontend=libfuse2,nolock'])), { posix: false, flock: false })
  fails(['h:/e', '/mnt', '-o', 'frontend=libfuse2,local_lock=none'], /need frontend=kernel/)
  fails(['h:/e', '/mnt', '-o', 'local_lock=some'], "Invalid 'local_lock' option (none, all, flock, posix)")
  fails(['h:/e', '/mnt', '-o', 'nlmport=0'], /nlmport/)
  fails(['h:/e', '/mnt', '-o', 'lockdir=relative/dir'], "Invalid 'lockdir' option (an absolute path)")
})

test.run()

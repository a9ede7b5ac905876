// Permission checks a local disk makes and an NFS server skips or cannot see (issue 6, items 1-3
// and 6): size changes and O_TRUNC without write permission, opening an unreadable directory, a
// non-owner's write to a set-uid file, and who may use a mapped mount's server identity locally.
// Each scenario runs as separate local uids against a real ganesha through the real CLI, under
// the default (`perm`: the kernel checks the displayed modes) and under `noperm` (only the server
// and mapnfs's own checks), so mapnfs's checks are exercised even where the kernel's would hide them.
import * as assert from 'uvu/assert'
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { makeExportDir, nfsSource, portOptions, startGanesha, type Ganesha } from '../fixtures/ganesha.js'
import { makeMountpoint } from '../fixtures/paths.js'
import { requireCli, runAs, withMount } from '../fixtures/mount.js'
import { fixtureSuite } from '../fixtures/suite.js'

const APP = 2000
const OTHER = 3000
const SERVER = 1234

interface Ctx { g: Ganesha; exp: string }

const s = fixtureSuite<Ctx>('local permission enforcement', async (defer) => {
  requireCli()
  const exp = makeExportDir()
  const g = await startGanesha({ exports: [{ path: exp }] })
  defer(() => g.stop())
  return { g, exp }
})

/**
 * Runs JS as UID (gid = UID) with `fs` and `p(name)` (a path on the mount) in scope; resolves
 * with its trimmed stdout. `tryIt(f)` prints 'ok' or the error code of f().
 */
async function js(uid: number, mnt: string, code: string): Promise<string> {
  const prelude = `const fs = require('fs'); const p = (n) => require('path').join(${JSON.stringify(mnt)}, n);
    const tryIt = (f) => { try { f(); console.log('ok') } catch (e) { console.log(e.code) } };`
  const r = await runAs(uid, uid, process.execPath, ['-e', prelude + code])
  if (r.code !== 0) throw new Error(`node as ${uid} exited ${r.code}: ${r.stderr}`)
  return r.stdout.trim()
}

/** A file written straight into the export as UID:GID with MODE (chmod after chown keeps set-id bits). */
function serverFile(exp: string, name: string, uid: number, mode: number, data = 'precious data\n'): string {
  const f = join(exp, name)
  writeFileSync(f, data)
  chownSync(f, uid, uid)
  chmodSync(f, mode)
  return f
}

const MODES = [['perm', []], ['noperm', ['noperm']]] as const

for (const [label, extra] of MODES) {
  const opts = (g: Ganesha): string[] => ['-o', [portOptions(g), ...extra].join(',')]

  s.test(`${label}, multi-user: truncate(2) and O_RDONLY|O_TRUNC without write permission fail with EACCES and keep the data`, async ({ g, exp }) => {
    const ro = serverFile(exp, `${label}-0444`, OTHER, 0o444)
    const noW = serverFile(exp, `${label}-0477`, OTHER, 0o477)
    await withMount(nfsSource(exp), makeMountpoint(), opts(g), async (m) => {
      const out = await js(OTHER, m.mountpoint, `
        tryIt(() => fs.truncateSync(p('${label}-0444'), 123));
        tryIt(() => fs.closeSync(fs.openSync(p('${label}-0477'), fs.constants.O_RDONLY | fs.constants.O_TRUNC)));`)
      assert.is(out, 'EACCES\nEACCES')
    })
    assert.is(readFileSync(ro, 'utf8'), 'precious data\n')
    assert.is(readFileSync(noW, 'utf8'), 'precious data\n')
  })

  s.test(`${label}, multi-user: ftruncate on a descriptor opened for writing stays allowed after chmod 0444`, async ({ g, exp }) => {
    const f = serverFile(exp, `${label}-ftrunc`, OTHER, 0o644)
    await withMount(nfsSource(exp), makeMountpoint(), opts(g), async (m) => {
      const out = await js(OTHER, m.mountpoint, `
        const fd = fs.openSync(p('${label}-ftrunc'), 'r+'); fs.fchmodSync(fd, 0o444);
        tryIt(() => fs.ftruncateSync(fd, 4)); fs.closeSync(fd);`)
      assert.is(out, 'ok')
    })
    assert.is(readFileSync(f, 'utf8'), 'prec')
    assert.is(statSync(f).mode & 0o7777, 0o444)
  })

  s.test(`${label}, multi-user: opening a directory without read permission fails at open (opendir), a readable one opens`, async ({ g, exp }) => {
    const dir = (name: string, mode: number): void => {
      const d = join(exp, `${label}-${name}`)
      mkdirSync(d)
      writeFileSync(join(d, 'inside'), 'x')
      chownSync(d, OTHER, OTHER)
      chmodSync(d, mode)
    }
    dir('0277', 0o277)
    dir('0311', 0o311)
    dir('0755', 0o755)
    await withMount(nfsSource(exp), makeMountpoint(), opts(g), async (m) => {
      const out = await js(OTHER, m.mountpoint, `
        const O = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY;
        for (const n of ['0277', '0311', '0755']) tryIt(() => fs.closeSync(fs.openSync(p('${label}-' + n), O)));
        tryIt(() => fs.opendirSync(p('${label}-0311')).closeSync());
        console.log(fs.readdirSync(p('${label}-0755')).join());
        tryIt(() => fs.statSync(p('${label}-0311/inside')));
        tryIt(() => fs.statSync(p('${label}-0277/inside')));`)
      // 0311: no read, but search (x) still reaches a name inside; 0277: the owner has neither.
      assert.is(out, 'EACCES\nEACCES\nok\nEACCES\ninside\nok\nEACCES')
    })
  })

  s.test(`${label}, multi-user: a non-owner's write to a set-uid/set-gid file succeeds and the server clears the bits`, async ({ g, exp }) => {
    const suid = serverFile(exp, `${label}-suid`, 4321, 0o4777, '')
    const sgid = serverFile(exp, `${label}-sgid`, 4321, 0o2777, '')
    await withMount(nfsSource(exp), makeMountpoint(), opts(g), async (m) => {
      const out = await js(OTHER, m.mountpoint, `
        for (const n of ['${label}-suid', '${label}-sgid']) tryIt(() => { const fd = fs.openSync(p(n), 'w'); fs.writeSync(fd, 'written by 3000'); fs.closeSync(fd) });
        for (const n of ['${label}-suid', '${label}-sgid']) console.log((fs.statSync(p(n)).mode & 0o7777).toString(8));`)
      assert.is(out, 'ok\nok\n777\n777')
    })
    for (const f of [suid, sgid]) {
      assert.is(readFileSync(f, 'utf8'), 'written by 3000')
      assert.is(statSync(f).mode & 0o7777, 0o777)
    }
  })

  s.test(`${label}, multi-user: the owner's chmod still sets and clears set-id bits; a stranger's chmod is refused`, async ({ g, exp }) => {
    const f = serverFile(exp, `${label}-chmod`, OTHER, 0o755)
    await withMount(nfsSource(exp), makeMountpoint(), opts(g), async (m) => {
      assert.is(await js(OTHER, m.mountpoint, `tryIt(() => fs.chmodSync(p('${label}-chmod'), 0o4755));`), 'ok')
      assert.is(statSync(f).mode & 0o7777, 0o4755)
      assert.is(await js(APP, m.mountpoint, `tryIt(() => fs.chmodSync(p('${label}-chmod'), 0o777));`), 'EPERM')
      assert.is(await js(OTHER, m.mountpoint, `tryIt(() => fs.chmodSync(p('${label}-chmod'), 0o755));`), 'ok')
    })
    assert.is(statSync(f).mode & 0o7777, 0o755)
  })
}

s.test('perm, multi-user: a 0600 FIFO of another uid does not open for a stranger; its owner opens it', async ({ g, exp }) => {
  const fifo = join(exp, 'their-fifo')
  execFileSync('mkfifo', ['-m', '0600', fifo])
  chownSync(fifo, OTHER, OTHER)
  await withMount(nfsSource(exp), makeMountpoint(), ['-o', portOptions(g)], async (m) => {
    // O_NONBLOCK: a FIFO open for reading returns at once instead of waiting for a writer.
    const open = `tryIt(() => fs.closeSync(fs.openSync(p('their-fifo'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)));`
    assert.is(await js(APP, m.mountpoint, open), 'EACCES')
    assert.is(await js(OTHER, m.mountpoint, open), 'ok')
  })
})

s.test('perm, mapped with localuid: other local users get what the displayed owner and mode grant them, no more', async ({ g, exp }) => {
  await withMount(nfsSource(exp), makeMountpoint(), ['-o', `uid=${SERVER},gid=${SERVER},localuid=${APP},localgid=${APP},${portOptions(g)}`], async (m) => {
    const made = await js(APP, m.mountpoint, `
      fs.writeFileSync(p('app-secret'), 'secret', { mode: 0o600 }); fs.chmodSync(p('app-secret'), 0o600);
      fs.writeFileSync(p('app-shared'), 'shared', { mode: 0o644 }); fs.chmodSync(p('app-shared'), 0o644);
      require('child_process').execFileSync('mkfifo', ['-m', '0600', p('app-fifo')]);
      fs.mkdirSync(p('app-dir'), 0o755); fs.writeFileSync(p('app-dir/kept'), 'k');
      console.log(fs.readFileSync(p('app-secret'), 'utf8'));`)
    assert.is(made, 'secret')
    assert.is(statSync(join(exp, 'app-secret')).uid, SERVER, 'stored as the server identity')
    // The stranger sees the owner and mode an application would, and is held to them.
    const stranger = await js(OTHER, m.mountpoint, `
      const st = fs.statSync(p('app-secret')); console.log(st.uid + ' ' + (st.mode & 0o777).toString(8));
      tryIt(() => fs.readFileSync(p('app-secret')));
      tryIt(() => fs.appendFileSync(p('app-secret'), 'x'));
      tryIt(() => fs.closeSync(fs.openSync(p('app-fifo'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)));
      tryIt(() => fs.unlinkSync(p('app-dir/kept')));
      tryIt(() => fs.writeFileSync(p('app-dir/planted'), 'x'));
      console.log(fs.readFileSync(p('app-shared'), 'utf8'));`)
    assert.is(stranger, `${APP} 600\nEACCES\nEACCES\nEACCES\nEACCES\nEACCES\nshared`)
    // The application and root keep full use.
    assert.is(await js(APP, m.mountpoint, `fs.appendFileSync(p('app-secret'), '!'); tryIt(() => fs.closeSync(fs.openSync(p('app-fifo'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)));`), 'ok')
    assert.is(await js(0, m.mountpoint, `console.log(fs.readFileSync(p('app-secret'), 'utf8'))`), 'secret!')
  })
  assert.is(readFileSync(join(exp, 'app-secret'), 'utf8'), 'secret!')
})

s.test('perm, mapped without localuid: every caller is shown as the owner of the mount\'s files, strangers\' files stay closed', async ({ g, exp }) => {
  serverFile(exp, 'foreign-0600', 4321, 0o600)
  const fifo = join(exp, 'foreign-fifo')
  execFileSync('mkfifo', ['-m', '0600', fifo])
  chownSync(fifo, 4321, 4321)
  await withMount(nfsSource(exp), makeMountpoint(), ['-o', `uid=${SERVER},gid=${SERVER},${portOptions(g)}`], async (m) => {
    const out = await js(OTHER, m.mountpoint, `
      fs.writeFileSync(p('by-mount'), 'm', { mode: 0o600 });
      console.log(fs.statSync(p('by-mount')).uid, fs.readFileSync(p('by-mount'), 'utf8'));
      tryIt(() => fs.readFileSync(p('foreign-0600')));
      tryIt(() => fs.closeSync(fs.openSync(p('foreign-fifo'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)));`)
    assert.is(out, `${OTHER} m\nEACCES\nEACCES`)
  })
})

s.test('noperm, mapped with localuid: the mount serves only its local uid and root; others get EACCES for everything', async ({ g, exp }) => {
  await withMount(nfsSource(exp), makeMountpoint(), ['-o', `uid=${SERVER},gid=${SERVER},localuid=${APP},localgid=${APP},noperm,${portOptions(g)}`], async (m) => {
    assert.is(await js(APP, m.mountpoint, `fs.writeFileSync(p('np-open'), 'open to all', { mode: 0o666 }); fs.chmodSync(p('np-open'), 0o666); console.log(fs.readFileSync(p('np-open'), 'utf8'))`), 'open to all')
    const stranger = await js(OTHER, m.mountpoint, `
      tryIt(() => fs.readFileSync(p('np-open')));
      tryIt(() => fs.statSync(p('np-open')));
      tryIt(() => fs.readdirSync(p('.')));
      tryIt(() => fs.writeFileSync(p('np-stranger'), 'x'));`)
    assert.is(stranger, 'EACCES\nEACCES\nEACCES\nEACCES')
    assert.is(await js(0, m.mountpoint, `console.log(fs.readFileSync(p('np-open'), 'utf8'))`), 'open to all')
  })
})

s.run()

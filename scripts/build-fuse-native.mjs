// Rebuilds fuse-native's addon with one addition: the FUSE caller context (uid, gid, pid).
//
// Why: fuse-native 2.2.6 hands op handlers the path and arguments but never the
// fuse_get_context() of the request. mapnfs needs it: the local identity defaults to the
// caller, and a mount without uid/gid sends each caller's own uid/gid/groups. The context is
// thread-local to the libfuse thread that blocks while JS handles the op, so it has to be
// captured in C and handed over with the dispatch. The patch records it per request and adds
// `fuse_native_caller(buf)`, valid synchronously at the start of each op handler.
//
// It also carries timestamps with nanoseconds instead of milliseconds, both ways (stat times as
// [nsec, sec] words, utimens as (nsec, sec) pairs, which fixes 2.2.6 handing JS the atime twice),
// and sets flag_utime_omit_ok so libfuse passes UTIME_NOW/UTIME_OMIT through instead of dropping
// a SETATTR that changes only one of atime/mtime. src/fuse/adapter.ts reads these formats and
// checks `mapnfs_patch_version`.
//
// node-gyp-build (which fuse-native's index.js uses) prefers build/Release over the bundled
// prebuild, so the rebuilt addon is picked up without touching fuse-native's JS. The patch is
// applied to a pristine copy (fuse-native.c.orig) each time it changes, and PATCH_VERSION in the
// stamp file says which patch the built addon carries.
import { copyFileSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)
const dir = dirname(require.resolve('fuse-native/package.json'))
const src = join(dir, 'fuse-native.c')
const pristine = src + '.orig'
const PATCH_VERSION = 'mapnfs-patch-3'
const MARK = `/* ${PATCH_VERSION}: caller context */`

if (!existsSync(pristine)) {
  if (readFileSync(src, 'utf8').includes('mapnfs')) {
    console.error('build-fuse-native: fuse-native.c is patched but its pristine copy is gone; reinstall it (npm ci)')
    process.exit(1)
  }
  copyFileSync(src, pristine)
}
let c = readFileSync(pristine, 'utf8')
{
  const edits = [
    ['} fuse_thread_locals_t;',
      '  uint32_t caller_uid;\n  uint32_t caller_gid;\n  uint32_t caller_pid;\n} fuse_thread_locals_t;\n\n' +
      MARK + '\nstatic uint32_t current_caller[3];\nstatic const uint32_t mapnfs_patch_version = 3;'],
    ['  l->op_fn = fuse_native_dispatch_##name;\\\n  blk\\',
      '  l->op_fn = fuse_native_dispatch_##name;\\\n' +
      '  { struct fuse_context *fctx = fuse_get_context(); l->caller_uid = fctx->uid; l->caller_gid = fctx->gid; l->caller_pid = fctx->pid; }\\\n' +
      '  blk\\'],
    ['      napi_create_uint32(env, l->op, &(argv[1]));\\\n      callbackBlk\\',
      '      napi_create_uint32(env, l->op, &(argv[1]));\\\n' +
      '      current_caller[0] = l->caller_uid; current_caller[1] = l->caller_gid; current_caller[2] = l->caller_pid;\\\n' +
      '      callbackBlk\\'],
    ['NAPI_INIT() {',
      'NAPI_METHOD(fuse_native_caller) {\n  NAPI_ARGV(1)\n  NAPI_ARGV_BUFFER_CAST(uint32_t *, out, 0);\n' +
      '  out[0] = current_caller[0]; out[1] = current_caller[1]; out[2] = current_caller[2];\n  return NULL;\n}\n\nNAPI_INIT() {'],
    ['  FUSE_UINT64_TO_INTS_ARGV(l->atime, 3)\n  FUSE_UINT64_TO_INTS_ARGV(l->atime, 5)',
      '  FUSE_UINT64_TO_INTS_ARGV(l->atime, 3)\n  FUSE_UINT64_TO_INTS_ARGV(l->mtime, 5)'],
    ['  l->atime = timespec_to_uint64(&tv[0]);\n  l->mtime = timespec_to_uint64(&tv[1]);',
      '  l->atime = mapnfs_time_arg(&tv[0]);\n  l->mtime = mapnfs_time_arg(&tv[1]);'],
    ['static uint64_t timespec_to_uint64 (const struct timespec* ts) {',
      '/* (sec << 32) | nsec: JS gets nsec (or UTIME_NOW/UTIME_OMIT) as the low word, sec as the high. */\n' +
      'static uint64_t mapnfs_time_arg (const struct timespec* ts) {\n' +
      '  return ((uint64_t) (uint32_t) ts->tv_sec << 32) | (uint32_t) ts->tv_nsec;\n}\n\n' +
      'static void mapnfs_ints_to_timespec (struct timespec* ts, uint32_t** ints) {\n' +
      '  ts->tv_nsec = *((*ints)++);\n  ts->tv_sec = *((*ints)++);\n}\n\n' +
      'static uint64_t timespec_to_uint64 (const struct timespec* ts) {'],
    ['  uint32s_to_timespec(&stat->st_atim, &ints);\n  uint32s_to_timespec(&stat->st_mtim, &ints);\n  uint32s_to_timespec(&stat->st_ctim, &ints);',
      '  mapnfs_ints_to_timespec(&stat->st_atim, &ints);\n  mapnfs_ints_to_timespec(&stat->st_mtim, &ints);\n  mapnfs_ints_to_timespec(&stat->st_ctim, &ints);'],
    ['  if (implemented[op_utimens]) ops.utimens = fuse_native_utimens;',
      '  if (implemented[op_utimens]) ops.utimens = fuse_native_utimens;\n  ops.flag_utime_omit_ok = 1;'],
    ['  NAPI_EXPORT_UINT32(op_utimens)',
      '  NAPI_EXPORT_UINT32(op_utimens)\n  NAPI_EXPORT_UINT32(mapnfs_patch_version)'],
    ['  NAPI_EXPORT_FUNCTION(fuse_native_mount)',
      '  NAPI_EXPORT_FUNCTION(fuse_native_mount)\n  NAPI_EXPORT_FUNCTION(fuse_native_caller)'],
  ]
  for (const [from, to] of edits) {
    if (!c.includes(from)) {
      console.error(`build-fuse-native: fuse-native.c does not contain the expected anchor:\n${from}`)
      process.exit(1)
    }
    c = c.replace(from, to)
  }
  if (readFileSync(src, 'utf8') !== c) writeFileSync(src, c)
}

const built = join(dir, 'build', 'Release', 'fuse.node')
const stamp = join(dir, 'build', 'mapnfs-caller.stamp')
if (existsSync(built) && existsSync(stamp) && readFileSync(stamp, 'utf8').startsWith(PATCH_VERSION)) process.exit(0)

const npmDir = dirname(dirname(require.resolve('npm/package.json', { paths: ['/usr/lib/node_modules', '/usr/local/lib/node_modules'] })))
const gyp = join(npmDir, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
const nodedir = dirname(dirname(process.execPath))
try {
  execFileSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
} catch (err) {
  const e = err
  console.error('build-fuse-native: node-gyp rebuild failed:\n' + String(e.stderr ?? e.message))
  process.exit(1)
}
writeFileSync(stamp, `${PATCH_VERSION} ${new Date().toISOString()}\n`)

#!/usr/bin/env bash
# Installs what mapnfs's build, tests and demo need on Debian 12, then the npm dependencies.
# Idempotent and non-interactive; prints nothing when there is nothing to do.
#
# Run as root (tests mount FUSE file systems and run nfs-ganesha). Debian packages are installed
# only when missing; services their postinst scripts would start (rpcbind, nfs-ganesha, slapd, docker) are
# kept from starting: tests and the demo start private instances and stop them by pid.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

PACKAGES=(
  nfs-ganesha nfs-ganesha-vfs rpcbind   # the NFSv3 test server and its portmapper (also rpcinfo)
  fuse                                  # libfuse2 + fusermount, linked by fuse-native
  libnfs-utils                          # nfs-ls / nfs-cat: an independent NFS client for tests
  fio                                   # load generator for benchmarks
  xfsprogs                              # mkfs.xfs: an XFS export with 64-bit inode numbers (test/fixtures/xfs.ts)
  slapd ldap-utils openssl              # LDAP identity tests: private slapd, throwaway TLS CA
  docker.io busybox-static              # mapnfs serve under a real dockerd (test/fixtures/dockerd.ts): a private daemon, an imported busybox image
  gcc g++ make python3                  # node-gyp rebuild of fuse-native (scripts/build-fuse-native.mjs); gcc: src/daemon/reattach.c, test/fixtures/fsx.c
)

command -v node >/dev/null 2>&1 || die "node is not installed (Node.js 20 with npm is required)"
command -v npm >/dev/null 2>&1 || die "npm is not installed (Node.js 20 with npm is required)"

missing=()
for p in "${PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages (${missing[*]}); run as root: sudo bash scripts/setup.sh"
  command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get: this script targets Debian 12"
  say "installing Debian packages: ${missing[*]}"
  log=$(mktemp /tmp/mapnfs-setup-apt.XXXXXX)

  # Keep postinst scripts from starting rpcbind/ganesha/slapd/docker (invoke-rc.d and deb-systemd-invoke
  # honour policy-rc.d exit code 101 = action forbidden). Only remove the file if we created it.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, from mapnfs scripts/setup.sh\nexit 101\n' > "$policy"
    chmod 0755 "$policy"
    created_policy=1
  fi
  cleanup_policy() { if [ "$created_policy" -eq 1 ]; then rm -f "$policy"; fi; }
  trap cleanup_policy EXIT

  # slapd: no debconf questions and no system database; tests run their own slapd.
  if command -v debconf-set-selections >/dev/null 2>&1; then
    echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
  fi

  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update && apt-get install -y --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "apt-get install failed (full log: $log)"
  fi
  rm -f "$log"
  cleanup_policy
  trap - EXIT

  still=()
  for p in "${missing[@]}"; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || still+=("$p")
  done
  [ "${#still[@]}" -eq 0 ] || die "packages still not installed after apt-get: ${still[*]}"
  say "installed: ${missing[*]}"
fi

# FUSE needs the kernel device; without it every mount fails, so say so now.
[ -e /dev/fuse ] || printf 'setup: warning: /dev/fuse does not exist: FUSE mounts (tests, demo) will fail\n' >&2

# npm dependencies: install when absent or when package-lock.json or a patch in patches/ changed
# since the last install (npm writes node_modules/.package-lock.json on every install; its
# postinstall applies patches/ with patch-package, which cannot re-patch an already patched copy).
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
    || [ -n "$(find patches -newer node_modules/.package-lock.json -print -quit)" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

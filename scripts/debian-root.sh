#!/usr/bin/env bash
# Runs a command in a fresh clone of this checkout's HEAD inside a minimal Debian root of another
# release, the way a new machine of that release would: nothing of this machine's setup is there
# but the tooling Node, so `npm test` installs what it needs itself (apt, libnode, npm deps).
#
#   scripts/debian-root.sh <bookworm|trixie> [--copy-out <path-in-clone> <dest>]
#                          [--record <summary.md>] [command...]
#
# The default command is `npm test`. --copy-out copies a folder of the clone out after a successful
# run; --record writes the run's summary (release, commit, time, each suite's counts) to a file. Needs root, debootstrap and unshare; the network reaches the
# Debian archive and the npm registry. The root (debootstrap --variant=minbase, git and
# ca-certificates, and this machine's Node, as nodesource installs it) is created once in
# $ENVOY_TS_DEBIAN_ROOT_CACHE (default /var/cache/envoy-ts-test/<suite>-tooling) and never written
# again: each run mounts an overlay on it in private mount and PID namespaces, so the mounts and
# every process the command leaves behind go away with it.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$PWD
say() { printf '[debian-root] %s\n' "$*"; }

suite=${1:?usage: scripts/debian-root.sh <bookworm|trixie> [--copy-out <path> <dest>] [--record <file>] [command...]}
shift
copy_from='' copy_to='' record=''
while true; do
  case "${1:-}" in
    --copy-out) copy_from=$2 copy_to=$(realpath -m "$3"); shift 3 ;;
    --record) record=$(realpath -m "$2"); shift 2 ;;
    *) break ;;
  esac
done
command=("$@")
[ ${#command[@]} -gt 0 ] || command=(npm test)

[ "$(id -u)" -eq 0 ] || { say "needs root (debootstrap, mount, chroot)"; exit 1; }
for tool in debootstrap unshare chroot git; do
  command -v "$tool" >/dev/null || { say "needs $tool (apt-get install $tool)"; exit 1; }
done

cache=${ENVOY_TS_DEBIAN_ROOT_CACHE:-/var/cache/envoy-ts-test}
rootfs="$cache/$suite-tooling"

create_root() {
  local partial="$rootfs.partial"
  rm -rf "$partial" && mkdir -p "$cache"
  say "creating $rootfs (debootstrap --variant=minbase $suite, once)"
  debootstrap --variant=minbase --include=git,ca-certificates,python3 "$suite" "$partial" \
    http://deb.debian.org/debian >"$cache/$suite-tooling.log" 2>&1 \
    || { say "debootstrap failed (log: $cache/$suite-tooling.log)"; exit 1; }
  # The tooling Node and npm of this machine (nodesource's build runs on any glibc >= 2.28);
  # Debian's own nodejs package would bring libnode system-wide, which the private sysroot avoids.
  say "copying this machine's Node $(node --version) and npm $(npm --version) into the root"
  local node_bin npm_dir
  node_bin=$(readlink -f "$(command -v node)")
  npm_dir=$(npm root -g)/npm
  install -D -m 755 "$node_bin" "$partial/usr/bin/node"
  mkdir -p "$partial/usr/lib/node_modules" && cp -a "$npm_dir" "$partial/usr/lib/node_modules/"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$partial/usr/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$partial/usr/bin/npx"
  # This machine's trust and npm settings: the CA certificates it adds and its global npmrc.
  if [ -d /usr/local/share/ca-certificates ]; then
    cp -a /usr/local/share/ca-certificates/. "$partial/usr/local/share/ca-certificates/"
    chroot "$partial" update-ca-certificates >/dev/null
  fi
  for npmrc in /usr/etc/npmrc /etc/npmrc; do [ -f "$npmrc" ] && install -D -m 644 "$npmrc" "$partial$npmrc"; done
  mv "$partial" "$rootfs"
}
[ -f "$rootfs/usr/bin/node" ] || create_root

# The run's summary: what ran where, how long, and the closing lines of each suite.
write_summary() {
  printf '# `%s` in a fresh Debian %s root\n\n' "${command[*]}" "$(cat "$rootfs/etc/debian_version")"
  printf 'Written by `scripts/debian-root.sh %s --record`.\n\n' "$suite"
  printf -- '- date: %s\n- commit: %s\n- tooling Node: %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" \
    "$(git rev-parse --short HEAD)" "$(node --version)"
  printf -- '- embedded runtime: %s\n' "$(grep -m1 -o "downloading .*libnode[^ ]* (Node [0-9]*)" "$work/output.log" || echo '(see the log)')"
  printf -- '- exit status: %s\n- wall time: %d min %02d s on %s CPUs (root creation excluded)\n\n' \
    "$status" $((seconds / 60)) $((seconds % 60)) "$(nproc)"
  printf '```\n'
  grep -E '^\[test\]|^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) |^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ' \
    "$work/output.log" || true
  printf '```\n'
}

work=$(mktemp -d /tmp/envoy-ts-debian-root.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/upper/work" "$work/overlay-work" "$work/merged"
cp /etc/resolv.conf /etc/hosts "$work/"
# A fresh clone of HEAD, as CI takes one.
git clone -q --no-local "$checkout" "$work/upper/work/envoy-ts"
git -C "$work/upper/work/envoy-ts" checkout -q "$(git rev-parse HEAD)"

say "Debian $(cat "$rootfs/etc/debian_version") root, clone of $(git rev-parse --short HEAD): ${command[*]}"
printf 'cd /work/envoy-ts\nexec %s\n' "$(printf '%q ' "${command[@]}")" >"$work/upper/work/command.sh"
started=$(date +%s)
set +e
unshare --mount --propagation private --pid --fork sh -ec "
  mount -t overlay envoy-ts-debian-root -o lowerdir='$rootfs',upperdir='$work/upper',workdir='$work/overlay-work' '$work/merged'
  cp '$work/resolv.conf' '$work/hosts' '$work/merged/etc/'
  mount -t proc proc '$work/merged/proc'
  mount --rbind /sys '$work/merged/sys'
  mount --rbind /dev '$work/merged/dev'
  mount -t tmpfs tmpfs '$work/merged/dev/shm'
  mount -t tmpfs tmpfs '$work/merged/tmp'
  chroot '$work/merged' /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    CI=true LANG=C.UTF-8 \${NODE_EXTRA_CA_CERTS:+NODE_EXTRA_CA_CERTS=\$NODE_EXTRA_CA_CERTS} bash /work/command.sh
  if [ -n '$copy_from' ]; then mkdir -p '$copy_to' && cp -a '$work/merged/work/envoy-ts/$copy_from/.' '$copy_to/'; fi
" 2>&1 | tee "$work/output.log"
status=${PIPESTATUS[0]}
set -e
seconds=$(( $(date +%s) - started ))
say "exit $status after $seconds s"
[ -z "$record" ] || { mkdir -p "$(dirname "$record")" && write_summary >"$record"; }
exit $status

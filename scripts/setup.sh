#!/usr/bin/env bash
# Idempotent setup for a fresh clone: npm deps, Debian packages, the private libnode 18 sysroot,
# the TypeScript build and the native build. Each step says what it does and is skipped when done.
# Usage: scripts/setup.sh [--build-only]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sysroot="$root/.sysroot"
say() { printf '[setup] %s\n' "$*"; }

# Debian packages the native build, the conformance host and the benchmarks link or run.
apt_packages=(
  cmake g++ make pkg-config
  libuv1-dev libc-ares2 libicu72 libnghttp2-14 libbrotli1 libssl3 zlib1g
  libevent-dev libhttp-parser-dev libyaml-cpp-dev libgoogle-perftools-dev
  wrk redis-server redis-tools
)
# Debian's libnode 18 and the JS builtins it loads from /usr/share/nodejs. These cannot be
# apt-installed next to a nodesource nodejs, so they are downloaded and unpacked (DESIGN.md §8).
libnode_debs=(libnode108 libnode-dev node-acorn node-cjs-module-lexer node-undici node-xtend)
libnode_so="$sysroot/usr/lib/x86_64-linux-gnu/libnode.so.108"

install_debian_packages() {
  local missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages: ${missing[*]} (run as root, or install them yourself)"; exit 1
  fi
  say "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_libnode_sysroot() {
  if [ ! -f "$libnode_so" ] || [ ! -f "$sysroot/usr/include/node/node.h" ]; then
    say "downloading Debian libnode 18 into $sysroot (private sysroot, not installed system-wide)"
    rm -rf "$sysroot" && mkdir -p "$sysroot/debs"
    (cd "$sysroot/debs" && apt-get download "${libnode_debs[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
    for deb in "$sysroot"/debs/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
  fi
  # libnode 18 reads acorn, cjs-module-lexer and undici from this fixed path at isolate creation.
  if [ ! -f /usr/share/nodejs/cjs-module-lexer/lexer.js ] || [ ! -d /usr/share/nodejs/undici ]; then
    if [ "$(id -u)" -ne 0 ]; then
      say "/usr/share/nodejs is missing the JS builtins libnode needs; copy $sysroot/usr/share/nodejs there as root"; exit 1
    fi
    say "providing libnode's JS builtins in /usr/share/nodejs (copied from the sysroot)"
    mkdir -p /usr/share/nodejs
    cp -an "$sysroot/usr/share/nodejs/." /usr/share/nodejs/
  fi
}

install_npm_deps() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

build_ts() {
  node scripts/build-ts.mjs
}

build_native() {
  # cmake-js drives CMake; Node headers come only from the sysroot (LIBNODE_ROOT), never a download.
  local log=build/native-build.log
  mkdir -p build
  if ! npx --no-install cmake-js build --log-level error --parallel "$(nproc)" \
      --directory "$root" --out build --CDLIBNODE_ROOT="$sysroot/usr" \
      --CDCMAKE_BUILD_TYPE=Release >"$log" 2>&1; then
    grep -E 'error|Error|FAILED' "$log" | head -40 || true
    say "native build failed (full log: $log)"
    exit 1
  fi
  say "native build: build/Release (log: $log)"
}

if [ "${1:-}" != "--build-only" ]; then
  install_debian_packages
  install_libnode_sysroot
  install_npm_deps
fi
build_ts
build_native
say "ready: build/Release/libenvoy_ts.so, build/Release/envoy-ts-host, dist/"

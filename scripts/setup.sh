#!/usr/bin/env bash
# Idempotent setup for a fresh clone: Debian packages and the private libnode sysroot
# (scripts/setup-runtime.sh), npm deps, the TypeScript build and the native build. Each step
# says what it does and is skipped when done.
# Usage: scripts/setup.sh [--build-only]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sysroot="$root/.sysroot"
say() { printf '[setup] %s\n' "$*"; }

# Debian packages the native build, the conformance host's own tests, the benchmarks, packaging
# (patchelf: scripts/package.mjs) and the Bazel build (bazel/: Bazel 4.2 and the rules it loads)
# need on top of the runtime's (scripts/setup-runtime.sh).
build_packages=(
  cmake g++ make pkg-config
  libuv1-dev libevent-dev libhttp-parser-dev libyaml-cpp-dev libgoogle-perftools-dev
  wrk redis-server redis-tools valgrind
  patchelf
  bazel-bootstrap bazel-rules-cc bazel-rules-java
)

install_npm_deps() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "npm ci"
    # --ignore-scripts: npm ci would run this package's own prepare script (this setup) again.
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  fi
}

build_ts() {
  node scripts/build-ts.mjs
}

build_native() {
  # cmake-js drives CMake; Node headers come only from the sysroot (LIBNODE_ROOT), never a download:
  # npm_config_nodedir points cmake-js' own header lookup there too (else it fetches the tooling
  # Node's headers from the internet).
  local log=build/native-build.log
  mkdir -p build
  if ! npm_config_nodedir="$sysroot/usr" npx --no-install cmake-js build --log-level error --parallel "$(nproc)" \
      --directory "$root" --out build --CDLIBNODE_ROOT="$sysroot/usr" \
      --CDCMAKE_BUILD_TYPE=Release >"$log" 2>&1; then
    grep -E 'error|Error|FAILED' "$log" | head -40 || true
    say "native build failed (full log: $log)"
    exit 1
  fi
  say "native build: build/Release (log: $log)"
}

if [ "${1:-}" != "--build-only" ]; then
  bash scripts/setup-runtime.sh "$root" "${build_packages[@]}"
  install_npm_deps
fi
build_ts
build_native
say "ready: build/Release/libenvoy_ts.so, build/Release/envoy-ts-host, dist/"

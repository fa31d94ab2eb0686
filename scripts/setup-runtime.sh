#!/usr/bin/env bash
# What libenvoy_ts.so and envoy-ts-host need at run time on Debian 12 (x86_64), for a checkout and
# for the installed package alike (`envoy-ts setup` runs this script from the package):
#   - the shared libraries they link from Debian, installed with apt-get when missing (root);
#   - Debian's libnode 18 and the JS builtins it loads, downloaded and unpacked into a private
#     sysroot (<root>/.sysroot) that the binaries find through their $ORIGIN-relative RUNPATH:
#     libnode cannot be apt-installed next to nodesource's nodejs;
#   - those JS builtins copied to /usr/share/nodejs, the fixed path libnode 18 reads them from.
# Idempotent: each step says what it does and is skipped when done.
# Usage: setup-runtime.sh <root> [extra Debian packages to install...]
set -euo pipefail
root=$(cd "$1" && pwd)
shift
sysroot="$root/.sysroot"
say() { printf '[setup] %s\n' "$*"; }

if [ "$(uname -m)" != x86_64 ] || ! grep -qs '^12' /etc/debian_version; then
  say "the runtime is built for Debian 12 on x86_64; this machine is $(uname -m), Debian $(cat /etc/debian_version 2>/dev/null || echo '(none)')"
  exit 1
fi

runtime_packages=(
  libuv1 libc-ares2 libicu72 libnghttp2-14 libbrotli1 libssl3 zlib1g
  libevent-core-2.1-7 libevent-pthreads-2.1-7 libhttp-parser2.9 libyaml-cpp0.7
  libgoogle-perftools4 libunwind8
)
libnode_debs=(libnode108 libnode-dev node-acorn node-cjs-module-lexer node-undici node-xtend)
libnode_so="$sysroot/usr/lib/x86_64-linux-gnu/libnode.so.108"

install_debian_packages() {
  local missing=()
  for p in "${runtime_packages[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"; exit 1
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
    [ -f "$libnode_so" ] || { say "apt-get download ${libnode_debs[*]} failed (is a Debian 12 archive in the apt sources?)"; exit 1; }
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

install_debian_packages "$@"
install_libnode_sysroot

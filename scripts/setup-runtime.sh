#!/usr/bin/env bash
# What libenvoy_ts.so and envoy-ts-host need at run time on Debian (x86_64), for a checkout and for
# the installed package alike (`envoy-ts setup` runs this script from the package). The Debian
# release decides the runtime (scripts/runtimes.json): Debian 12 embeds libnode108 (Node 18),
# Debian 13 libnode115 (Node 20); neither release has the other's.
#   - the shared libraries they link from Debian, installed with apt-get when missing (root);
#   - Debian's libnode and the JS builtins it loads, downloaded and unpacked into a private
#     sysroot (<root>/.sysroot) that the binaries find through their $ORIGIN-relative RUNPATH:
#     libnode cannot be apt-installed next to nodesource's nodejs;
#   - those JS builtins copied to /usr/share/nodejs, the fixed path Debian's libnode reads them from.
# Idempotent: each step says what it does and is skipped when done.
# Usage: setup-runtime.sh <root> [extra Debian packages to install...]
set -euo pipefail
root=$(cd "$1" && pwd)
shift
sysroot="$root/.sysroot"
say() { printf '[setup] %s\n' "$*"; }

debian_version=$(cat /etc/debian_version 2>/dev/null || echo '(none)')
# The runtime of this release, as shell assignments (runtime_title, libnode, libnode_debs, ...).
if [ "$(uname -m)" != x86_64 ] || ! runtime=$(node "$(dirname "$0")/runtimes.mjs" --shell); then
  say "the runtime is built for Debian 12 or 13 on x86_64; this machine is $(uname -m), Debian $debian_version"
  exit 1
fi
eval "$runtime"
libnode_so="$sysroot/usr/lib/x86_64-linux-gnu/$libnode"

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

# The absolute paths of the JS builtins libnode reads (NUL-terminated strings in it).
libnode_builtins() {
  tr '\0' '\n' <"$libnode_so" | grep -E '^/usr/share/nodejs/[^[:space:]"]+\.js$' | sort -u
}

install_libnode_sysroot() {
  if [ ! -f "$libnode_so" ] || [ ! -f "$sysroot/usr/include/node/node.h" ]; then
    say "downloading $runtime_title's libnode (Node $node_version) into $sysroot (private sysroot, not installed system-wide)"
    rm -rf "$sysroot" && mkdir -p "$sysroot/debs"
    (cd "$sysroot/debs" && apt-get download "${libnode_debs[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
    for deb in "$sysroot"/debs/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
    [ -f "$libnode_so" ] || { say "apt-get download ${libnode_debs[*]} failed (is a $runtime_title archive in the apt sources?)"; exit 1; }
  fi
  # Debian's libnode reads these (acorn, cjs-module-lexer, undici, ...) from this fixed path when an
  # isolate starts.
  local builtin missing=0
  while read -r builtin; do [ -f "$builtin" ] || missing=1; done < <(libnode_builtins)
  if [ $missing -eq 1 ]; then
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

// The release targets `npm run package` knows. A target is the OS whose libnode the module was
// built against: the build tree holds one (scripts/setup-runtime.sh picks it), and packaging checks
// that the built module links that target's libnode before bundling anything.
//
// Adding a target (Debian 13 is next: libnode115, Node 20, which needs glibc >= 2.38) takes a
// setup that builds against it (a sysroot with its libnode and JS builtins) and an entry here;
// the packaging and the tests read everything else from the entry.

export const targets = {
  debian12: {
    title: 'Debian 12 (bookworm)',
    // /etc/debian_version of a build machine for this target starts with this.
    debianVersionPrefix: '12',
    // The debootstrap suite test/release/debian-root.test.mjs runs the artifact in.
    suite: 'bookworm',
    // The libnode the module must link (its DT_NEEDED), as setup unpacks it.
    libnode: 'libnode.so.108',
    nodeVersion: '18',
    // Where setup unpacked libnode, its headers and the JS builtins it reads (Debian's layout).
    sysroot: '.sysroot',
  },
};

/** The target of this build machine, from /etc/debian_version; null when there is none. */
export function defaultTargetName(debianVersion) {
  const match = Object.entries(targets).find(([, t]) => debianVersion.startsWith(t.debianVersionPrefix));
  return match ? match[0] : null;
}

#!/usr/bin/env node
// The embedded runtime per Debian release (scripts/runtimes.json): the libnode a build on that
// release embeds and the Debian packages it and the conformance host need. A build machine's
// release decides its runtime; a release artifact's target is the runtime it was built against.
//
//   node scripts/runtimes.mjs --shell   this machine's runtime as shell assignments (setup-runtime.sh)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const runtimes = JSON.parse(readFileSync(new URL('./runtimes.json', import.meta.url), 'utf8'));

/** The runtime name (e.g. 'debian13') for an /etc/debian_version text ('13.2', 'trixie/sid'); null when none fits. */
export function runtimeNameOf(debianVersion) {
  const match = Object.entries(runtimes).find(([, r]) =>
    debianVersion.startsWith(r.debianVersionPrefix) || debianVersion.startsWith(`${r.suite}/`));
  return match ? match[0] : null;
}

/** This machine's runtime name; null on a machine without a supported Debian release. */
export function runtimeNameOfThisMachine() {
  let debianVersion = '';
  try { debianVersion = readFileSync('/etc/debian_version', 'utf8').trim(); } catch { /* not Debian */ }
  return runtimeNameOf(debianVersion);
}

function shellWords(list) {
  return `(${list.map((w) => `'${w}'`).join(' ')})`;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--shell') {
  const name = runtimeNameOfThisMachine();
  if (!name) process.exit(1);
  const r = runtimes[name];
  console.log([
    `runtime_name='${name}'`, `runtime_title='${r.title}'`, `node_version='${r.nodeVersion}'`,
    `libnode='${r.libnode}'`, `libnode_debs=${shellWords(r.libnodeDebs)}`,
    `runtime_packages=${shellWords(r.runtimePackages)}`,
  ].join('\n'));
}

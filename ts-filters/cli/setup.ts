// `envoy-ts setup`: what the prebuilt module and host need at run time on this machine (Debian 12,
// x86_64): the Debian libraries they link and Debian's libnode 18 in the package's private sysroot.

import { spawnSync } from 'node:child_process';

import { packageRoot, runtimeSetupScript } from './package-paths';

export function setup(): number {
  const result = spawnSync('bash', [runtimeSetupScript, packageRoot], { stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

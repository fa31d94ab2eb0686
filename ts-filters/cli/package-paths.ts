// Where the package's parts are. The CLI runs from <package>/dist/cli/envoy-ts.js, in a checkout
// and in an installed package alike; the native parts sit in <package>/build/Release and find
// libnode in <package>/.sysroot (`envoy-ts setup`) through their $ORIGIN-relative RUNPATH.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const packageRoot = resolve(__dirname, '../..');
/** The folder holding libenvoy_ts.so: ENVOY_DYNAMIC_MODULES_SEARCH_PATH for the proxy. */
export const moduleDir = join(packageRoot, 'build/Release');
export const hostBinary = join(moduleDir, 'envoy-ts-host');
export const runtimeSetupScript = join(packageRoot, 'scripts/setup-runtime.sh');
/** The init command's project template (copied next to the CLI by the build). */
export const projectTemplateDir = join(__dirname, 'templates/project');

const libnode = join(packageRoot, '.sysroot/usr/lib/x86_64-linux-gnu/libnode.so.108');
// libnode 18 reads these from a fixed path when a Node environment starts.
const libnodeBuiltins = ['/usr/share/nodejs/cjs-module-lexer/lexer.js', '/usr/share/nodejs/undici'];

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Why the native parts cannot run yet, or null when they can. */
export function nativePartsProblem(): string | null {
  if (!existsSync(join(moduleDir, 'libenvoy_ts.so')) || !existsSync(hostBinary)) {
    return `the native module is missing from ${moduleDir} (a checkout builds it with \`npm run build\`)`;
  }
  const missing = [libnode, ...libnodeBuiltins].filter((path) => !existsSync(path));
  if (missing.length > 0) {
    return `the embedded Node runtime is not set up (missing ${missing.join(', ')}): run \`npx envoy-ts setup\``;
  }
  return null;
}

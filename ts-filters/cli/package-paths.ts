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

const libnodeDir = join(packageRoot, '.sysroot/usr/lib/x86_64-linux-gnu');
// The runtime per Debian release (which libnode each embeds), as setup reads it.
const runtimesFile = join(packageRoot, 'scripts/runtimes.json');

interface Runtime { title: string; libnode: string }

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The libnode soname the built module links (its DT_NEEDED entry, read from the file's strings). */
function libnodeOfModule(modulePath: string): string | null {
  return /libnode\.so\.\d+/.exec(readFileSync(modulePath).toString('latin1'))?.[0] ?? null;
}

/** Why the native parts cannot run yet, or null when they can. */
export function nativePartsProblem(): string | null {
  const modulePath = join(moduleDir, 'libenvoy_ts.so');
  if (!existsSync(modulePath) || !existsSync(hostBinary)) {
    return `the native module is missing from ${moduleDir} (a checkout builds it with \`npm run build\`)`;
  }
  const libnode = libnodeOfModule(modulePath);
  if (libnode && !existsSync(join(libnodeDir, libnode))) {
    const runtimes = JSON.parse(readFileSync(runtimesFile, 'utf8')) as Record<string, Runtime>;
    const builtFor = Object.values(runtimes).find((r) => r.libnode === libnode);
    const installed = Object.values(runtimes).find((r) => existsSync(join(libnodeDir, r.libnode)));
    if (builtFor && installed) {
      return `the native module was built for ${builtFor.title} (${libnode}) and this machine's runtime is ` +
        `${installed.title}'s (${installed.libnode}): build it here (install envoy-ts from its git ` +
        'repository, whose prepare step builds it) or use the release artifact of this Debian release';
    }
    return `the embedded Node runtime is not set up (missing ${join(libnodeDir, libnode)}): run \`npx envoy-ts setup\``;
  }
  const builtins = libnodeBuiltinsMissing();
  if (builtins.length > 0) {
    return `the JS builtins libnode reads are missing (${builtins.join(', ')}): run \`npx envoy-ts setup\``;
  }
  return null;
}

/** libnode reads these from a fixed path when a Node environment starts (every Debian release). */
function libnodeBuiltinsMissing(): string[] {
  return ['/usr/share/nodejs/cjs-module-lexer/lexer.js', '/usr/share/nodejs/undici'].filter((path) => !existsSync(path));
}

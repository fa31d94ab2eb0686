// The dynamic-symbol contract between libenvoy_ts.so and the host (as between a module and Envoy):
// what the module needs, the host exports; each side exports only its half of the ABI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import {
  examplesBundle, freePort, hostBin, hostYaml, moduleSo, releaseDir, root, runHostToExit,
} from './helpers.mjs';

function run(file, args, env = process.env) {
  const result = spawnSync(file, args, { encoding: 'utf8', env, maxBuffer: 1 << 28 });
  assert.equal(result.status, 0, `${file} ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

/** `nm -D` rows as {type, name}; `name` keeps its @VERSION suffix when it has one. */
function dynamicSymbols(file, which) {
  return run('nm', ['-D', which, file]).split('\n').filter(Boolean).map((line) => {
    const fields = line.trim().split(/\s+/);
    return { type: fields.at(-2), name: fields.at(-1) };
  });
}

const abiHeaders = readdirSync(path.join(root, 'native/abi')).filter((f) => f.endsWith('.h'))
  .map((f) => path.join(root, 'native/abi', f));
const declaredHooks = new Set(abiHeaders.flatMap(
  (file) => readFileSync(file, 'utf8').match(/\benvoy_dynamic_module_on_\w+/g) ?? []));

/**
 * Whether a symbol the host exports is toolchain noise rather than ours: a symbol versioned by a
 * system library (copy relocations like stdout@GLIBC_2.2.5), or a vague-linkage entity of the C++
 * standard library, libstdc++ internals or yaml-cpp (template instances, vtables, typeinfo) that
 * names none of our types.
 */
function isToolchainNoise(name) {
  if (name.includes('@')) return true;
  if (!name.startsWith('_Z') || /EnvoyTsHost|envoy_ts|envoy_dynamic_module/.test(name)) return false;
  const entity = name.replace(/^_ZT[VIST]/, '_Z').replace(/^_Z[NK]*/, '');
  return /^(St|S[absiod]|\d*__gnu_cxx|4YAML)/.test(entity);
}

describe('dynamic symbols of libenvoy_ts.so and envoy-ts-host', () => {
  test('every non-weak callback libenvoy_ts.so needs is exported by the host (RTLD_NOW loads)', () => {
    const needed = dynamicSymbols(moduleSo, '--undefined-only')
      .filter((s) => s.name.startsWith('envoy_dynamic_module_callback_') && s.type === 'U')
      .map((s) => s.name);
    assert.ok(needed.includes('envoy_dynamic_module_callback_http_get_header'), needed.join('\n'));
    const exported = new Set(dynamicSymbols(hostBin, '--defined-only').map((s) => s.name));
    assert.deepEqual(needed.filter((name) => !exported.has(name)), []);
  });

  test('libenvoy_ts.so exports exactly the envoy_dynamic_module_on_* hooks of native/abi/*.h', () => {
    assert.ok(declaredHooks.has('envoy_dynamic_module_on_program_init'), [...declaredHooks].join('\n'));
    const exported = dynamicSymbols(moduleSo, '--defined-only').map((s) => s.name).sort();
    assert.deepEqual(exported, [...declaredHooks].sort());
  });

  test('the host exports none of its own symbols except envoy_dynamic_module_callback_*', () => {
    // The filter is itself checked on names it must reject or let through.
    assert.equal(isToolchainNoise('_ZN11EnvoyTsHost6Logger3logENS_8LogLevelEPKcRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE'), false);
    assert.equal(isToolchainNoise('_ZNSt6vectorIN11EnvoyTsHost7OptionsESaIS1_EED2Ev'), false);
    assert.equal(isToolchainNoise('runScript'), false);
    assert.equal(isToolchainNoise('_ZTVN4YAML9ExceptionE'), true);
    assert.equal(isToolchainNoise('_ZStplIcSt11char_traitsIcESaIcEENSt7__cxx1112basic_stringIT_T0_T1_EEPKS5_RKS8_'), true);

    const exported = dynamicSymbols(hostBin, '--defined-only').map((s) => s.name);
    const callbacks = exported.filter((name) => name.startsWith('envoy_dynamic_module_callback_'));
    assert.ok(callbacks.length >= 10, exported.join('\n'));
    const leaked = exported.filter((name) => !name.startsWith('envoy_dynamic_module_callback_') &&
                                             !isToolchainNoise(name));
    const demangled = leaked.length ? run('c++filt', leaked) : '';
    assert.deepEqual(leaked, [], `the host exports symbols of its own:\n${demangled}`);
  });

  test('libenvoy_ts.so finds libnode through its own RUNPATH', () => {
    const dynamic = run('readelf', ['-d', moduleSo]);
    const runpath = /\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[([^\]]+)\]/.exec(dynamic);
    assert.ok(runpath, `no RUNPATH/RPATH in libenvoy_ts.so:\n${dynamic}`);
    assert.match(dynamic, /\(NEEDED\)\s+Shared library: \[libnode\.so/);
    // Without LD_LIBRARY_PATH, so only the RUNPATH (and the system paths) can resolve libnode.
    const { LD_LIBRARY_PATH, ...env } = process.env;
    const ldd = run('ldd', [moduleSo], env);
    assert.doesNotMatch(ldd, /not found/);
    const libnode = /^\s*libnode\.so\S* => (\S+)/m.exec(ldd);
    assert.ok(libnode, ldd);
    // Relative to the module, so the checkout (or the installed package) can move.
    assert.match(runpath[1], /^\$ORIGIN\//);
    const dirs = runpath[1].split(':').map((dir) => path.resolve(dir.replace('$ORIGIN', path.dirname(moduleSo))));
    assert.ok(dirs.includes(path.resolve(path.dirname(libnode[1]))),
              `libnode resolved to ${libnode[1]}, outside the RUNPATH ${runpath[1]}`);
  });
});

// envoy-ts-host-exports-v8 is envoy-ts-host plus two exported V8 functions (test/host/v8_exports.c)
// that libnode calls through its own dynamic relocations, as an Envoy built with
// exported_symbols=enabled exports its V8: the dynamic linker binds libnode's calls to them.
describe('a host that exports V8 symbols libnode imports', () => {
  const variant = path.join(path.dirname(hostBin), 'envoy-ts-host-exports-v8');
  const exportedV8 = ['_ZN2v811HandleScopeC1EPNS_7IsolateE',
                      '_ZN2v86String11NewFromUtf8EPNS_7IsolateEPKcNS_13NewStringTypeEi'];

  test('the variant exports them and libnode imports them from itself', () => {
    const exported = new Set(dynamicSymbols(variant, '--defined-only').map((s) => s.name));
    assert.deepEqual(exportedV8.filter((name) => !exported.has(name)), []);
    const ldd = run('ldd', [moduleSo]);
    const libnode = /^\s*libnode\.so\S* => (\S+)/m.exec(ldd)[1];
    const relocations = run('readelf', ['-r', '-W', libnode]);
    const defined = new Set(dynamicSymbols(libnode, '--defined-only').map((s) => s.name));
    for (const name of exportedV8) {
      assert.ok(defined.has(name), `libnode does not define ${name}`);
      assert.match(relocations, new RegExp(`R_X86_64_(JUMP_SLOT|GLOB_DAT)\\s+\\S+\\s+${name}\\b`));
    }
  });

  test('libenvoy_ts.so refuses to start Node.js there and names a captured symbol', async () => {
    const yaml = hostYaml({
      listenPort: await freePort(), adminPort: await freePort(), upstreamPort: await freePort(),
      filters: [{ module: 'envoy_ts', filterName: 'chain',
                  config: JSON.stringify({ bundle: examplesBundle, chain: [{ name: 'request-id' }] }) }],
    });
    const { code, output } = await runHostToExit(yaml, { searchPath: releaseDir, bin: variant });
    assert.equal(code, 1, output);
    assert.match(output, /refusing to start Node\.js: the symbol v8::(HandleScope::HandleScope\(v8::Isolate\*\)|String::NewFromUtf8\(.*?\)) \(_ZN2v8\w+\) resolves to \S*envoy-ts-host-exports-v8 instead of \S*libnode\.so\S*; the host process exports V8 or OpenSSL symbols/);
    assert.doesNotMatch(output, /was captured by the host/);
  });
});

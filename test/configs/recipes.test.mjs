// The deployment recipes in envoy-configs/: every YAML parses, every envoy_ts filter config is one
// the module accepts, the Kubernetes manifests use the fields Envoy Gateway and Istio document, the
// Dockerfiles do what an image needs, and every Envoy YAML loads in the conformance host
// (`--mode validate`). No network: the field checkers below are written from those projects' docs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = join(root, 'envoy-configs');
const host = join(root, 'build', 'Release', 'envoy-ts-host');
const exampleBundle = join(root, 'dist', 'examples', 'filters.js');
// The bundle path the recipes use in production; the test points it at the examples bundle.
const RECIPE_BUNDLE = '/etc/envoy/filters/filters.js';

const HTTP_FILTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter';
const NETWORK_FILTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.dynamic_modules.v3.DynamicModuleNetworkFilter';
const PER_ROUTE_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilterPerRoute';
const STRING_VALUE = 'type.googleapis.com/google.protobuf.StringValue';
const TYPED_EXTENSION_CONFIG = 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig';
const HCM = 'envoy.filters.network.http_connection_manager';
const ROUTER = 'envoy.filters.http.router';

// Envoy YAMLs the host cannot load, and why; they are checked by parsing (and their envoy_ts
// config is validated in the host some other way, below).
const PARSE_ONLY = {
  'ecds.yaml': 'the host supports no ECDS (`config_discovery` on an HTTP filter is outside its ' +
               'YAML subset, test/host/README.md); its TypedExtensionConfig is loaded in the host ' +
               'through a static copy of envoy-1.40.yaml instead',
};

const files = readdirSync(dir).sort();
const yamlFiles = files.filter((f) => /\.ya?ml$/.test(f));
const dockerfiles = files.filter((f) => /^Dockerfile(\.|$)/.test(f));

function load(file) {
  const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8'));
  for (const d of docs) {
    if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
  }
  return docs.map((d) => d.toJS()).filter((d) => d != null);
}

function kindOf(doc) {
  if (doc.apiVersion && doc.kind) return 'kubernetes';
  if (doc.static_resources || doc.dynamic_resources || doc.admin) return 'envoy';
  if (Array.isArray(doc.resources)) return 'xds-resources';
  return 'unknown';
}

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---- envoy_ts filter configs (README "Running it in Envoy", "Configuration reference") ----

const CONFIG_KEYS = new Set(['bundle', 'watch', 'chain', 'offload', 'cpuBudgetMs', 'asyncTimeoutMs',
                             'capabilities', 'failurePolicy']);

// The filter_config JSON (as an object): the fields README's configuration reference lists.
export function checkChainConfig(cfg, where) {
  const errs = [];
  if (!isObj(cfg)) return [`${where}: filter config is not a JSON object`];
  for (const k of Object.keys(cfg)) if (!CONFIG_KEYS.has(k)) errs.push(`${where}: unknown key "${k}"`);
  if (typeof cfg.bundle !== 'string' || cfg.bundle === '') errs.push(`${where}: "bundle" must name a bundle`);
  if (!Array.isArray(cfg.chain) || cfg.chain.length === 0) errs.push(`${where}: "chain" must be a non-empty array`);
  else cfg.chain.forEach((e, i) => {
    if (!isObj(e) || typeof e.name !== 'string' || e.name === '') errs.push(`${where}: chain[${i}] needs a "name"`);
  });
  if (cfg.failurePolicy !== undefined && !['open', 'closed'].includes(cfg.failurePolicy)) {
    errs.push(`${where}: failurePolicy must be "open" or "closed"`);
  }
  return errs;
}

// A DynamicModuleFilter / DynamicModuleNetworkFilter typed_config naming envoy_ts.
export function checkModuleFilter(tc, where) {
  const errs = [];
  if (![HTTP_FILTER_TYPE, NETWORK_FILTER_TYPE].includes(tc['@type'])) errs.push(`${where}: @type is ${tc['@type']}`);
  const dm = tc.dynamic_module_config;
  if (!isObj(dm) || dm.name !== 'envoy_ts') errs.push(`${where}: dynamic_module_config.name must be envoy_ts`);
  else if (dm.do_not_close !== true) errs.push(`${where}: dynamic_module_config.do_not_close must be true (V8 cannot be unloaded)`);
  if (tc.filter_name !== 'chain') errs.push(`${where}: filter_name must be "chain"`);
  const fc = tc.filter_config;
  if (!isObj(fc) || fc['@type'] !== STRING_VALUE || typeof fc.value !== 'string') {
    errs.push(`${where}: filter_config must be a google.protobuf.StringValue`);
    return errs;
  }
  let cfg;
  try { cfg = JSON.parse(fc.value); } catch (e) { return [...errs, `${where}: filter_config JSON: ${e.message}`]; }
  return [...errs, ...checkChainConfig(cfg, where)];
}

// Every typed_config in a tree whose @type is a dynamic-module filter.
function moduleFilters(node, path = '', out = []) {
  if (Array.isArray(node)) node.forEach((v, i) => moduleFilters(v, `${path}[${i}]`, out));
  else if (isObj(node)) {
    if ([HTTP_FILTER_TYPE, NETWORK_FILTER_TYPE].includes(node['@type'])) out.push({ path, tc: node });
    for (const [k, v] of Object.entries(node)) moduleFilters(v, path ? `${path}.${k}` : k, out);
  }
  return out;
}

// ---- Envoy Gateway (api/v1alpha1/dynamic_module_types.go, "Dynamic Modules" task, v1.9+) ----

const EG = 'gateway.envoyproxy.io/v1alpha1';
const GWAPI_GROUP = 'gateway.networking.k8s.io';
const EG_NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

export function checkEnvoyGateway(docs, where) {
  const errs = [];
  const registered = new Map();
  const byKind = (k) => docs.filter((d) => d.kind === k);
  for (const ep of byKind('EnvoyProxy')) {
    if (ep.apiVersion !== EG) errs.push(`${where}: EnvoyProxy apiVersion ${ep.apiVersion}`);
    for (const [i, m] of (ep.spec?.dynamicModules ?? []).entries()) {
      const w = `${where}: EnvoyProxy ${ep.metadata?.name} spec.dynamicModules[${i}]`;
      for (const k of Object.keys(m)) if (!['name', 'source', 'doNotClose', 'loadGlobally'].includes(k)) errs.push(`${w}: unknown field ${k}`);
      if (typeof m.name !== 'string' || m.name.length > 253 || !EG_NAME.test(m.name)) errs.push(`${w}: name must match ${EG_NAME}`);
      const src = m.source;
      const type = src?.type ?? 'Local';
      if (!['Local', 'Remote'].includes(type)) errs.push(`${w}: source.type must be Local or Remote`);
      if (type === 'Local') {
        if (typeof src?.local?.path !== 'string' || !src.local.path.startsWith('/')) errs.push(`${w}: source.local.path must be an absolute path`);
        else if (basename(src.local.path) !== 'libenvoy_ts.so') errs.push(`${w}: source.local.path must be the module, libenvoy_ts.so`);
        if (src.remote) errs.push(`${w}: a Local source has no remote`);
      } else if (!src?.remote?.url || !/^[a-f0-9]{64}$/.test(src.remote.sha256 ?? '')) {
        errs.push(`${w}: a Remote source needs remote.url and a sha256`);
      }
      if (m.doNotClose !== true) errs.push(`${w}: doNotClose must be true (V8 cannot be unloaded; Envoy Gateway's default is false)`);
      if (m.loadGlobally !== undefined && typeof m.loadGlobally !== 'boolean') errs.push(`${w}: loadGlobally must be a boolean`);
      registered.set(m.name, m);
    }
  }
  for (const gc of byKind('GatewayClass')) {
    const p = gc.spec?.parametersRef;
    if (gc.spec?.controllerName !== 'gateway.envoyproxy.io/gatewayclass-controller') errs.push(`${where}: GatewayClass controllerName`);
    if (p && (p.group !== 'gateway.envoyproxy.io' || p.kind !== 'EnvoyProxy' ||
              !byKind('EnvoyProxy').some((e) => e.metadata?.name === p.name && e.metadata?.namespace === p.namespace))) {
      errs.push(`${where}: GatewayClass parametersRef must name an EnvoyProxy of this file (name and namespace)`);
    }
  }
  const policies = byKind('EnvoyExtensionPolicy');
  for (const pol of policies) {
    const w = `${where}: EnvoyExtensionPolicy ${pol.metadata?.name}`;
    if (pol.apiVersion !== EG) errs.push(`${w}: apiVersion ${pol.apiVersion}`);
    const refs = pol.spec?.targetRefs;
    if (!Array.isArray(refs) || refs.length === 0) errs.push(`${w}: spec.targetRefs is required`);
    for (const r of refs ?? []) {
      if (r.group !== GWAPI_GROUP || !['Gateway', 'HTTPRoute', 'GRPCRoute'].includes(r.kind) || !r.name) errs.push(`${w}: targetRefs entries are {group: ${GWAPI_GROUP}, kind: Gateway|HTTPRoute|GRPCRoute, name}`);
      if (r.kind === 'Gateway' && !byKind('Gateway').some((g) => g.metadata?.name === r.name && (g.metadata?.namespace ?? 'default') === (pol.metadata?.namespace ?? 'default'))) {
        errs.push(`${w}: targetRefs names Gateway ${r.name}, which this file does not define in the policy's namespace`);
      }
    }
    const dms = pol.spec?.dynamicModule;
    if (!Array.isArray(dms) || dms.length === 0) errs.push(`${w}: spec.dynamicModule is required`);
    for (const [i, dm] of (dms ?? []).entries()) {
      const wi = `${w} spec.dynamicModule[${i}]`;
      for (const k of Object.keys(dm)) if (!['name', 'filterName', 'config', 'terminalFilter', 'backends'].includes(k)) errs.push(`${wi}: unknown field ${k}`);
      if (!registered.has(dm.name)) errs.push(`${wi}: name ${dm.name} is not registered in an EnvoyProxy's spec.dynamicModules`);
      if (dm.filterName !== 'chain') errs.push(`${wi}: filterName must be "chain"`);
      if (dm.terminalFilter === true) errs.push(`${wi}: envoy-ts is not a terminal filter`);
      errs.push(...checkChainConfig(dm.config, `${wi}.config`));
    }
  }
  return { errs, policies };
}

// The DynamicModuleFilter Envoy Gateway generates for a policy entry (internal/xds/translator/
// dynamicmodule.go: config → StringValue of its JSON), named so that the host loads it by name.
function egFilter(dm) {
  return {
    '@type': HTTP_FILTER_TYPE,
    dynamic_module_config: { name: 'envoy_ts', do_not_close: true },
    filter_name: dm.filterName,
    filter_config: { '@type': STRING_VALUE, value: JSON.stringify(dm.config) },
  };
}

// ---- Istio EnvoyFilter (Istio's EnvoyFilter reference, networking.istio.io/v1alpha3) ----

const APPLY_TO = ['LISTENER', 'FILTER_CHAIN', 'NETWORK_FILTER', 'HTTP_FILTER', 'ROUTE_CONFIGURATION',
                  'VIRTUAL_HOST', 'HTTP_ROUTE', 'CLUSTER', 'EXTENSION_CONFIG', 'BOOTSTRAP', 'LISTENER_FILTER'];
const CONTEXTS = ['ANY', 'SIDECAR_INBOUND', 'SIDECAR_OUTBOUND', 'GATEWAY'];
const OPERATIONS = ['MERGE', 'ADD', 'REMOVE', 'INSERT_BEFORE', 'INSERT_AFTER', 'INSERT_FIRST', 'REPLACE'];

export function checkIstio(docs, where) {
  const errs = [];
  const patches = [];
  for (const ef of docs.filter((d) => d.kind === 'EnvoyFilter')) {
    const w = `${where}: EnvoyFilter ${ef.metadata?.name}`;
    if (ef.apiVersion !== 'networking.istio.io/v1alpha3') errs.push(`${w}: apiVersion must be networking.istio.io/v1alpha3`);
    const sel = ef.spec?.workloadSelector;
    if (sel !== undefined && (!isObj(sel.labels) || Object.keys(sel.labels).length === 0)) errs.push(`${w}: workloadSelector.labels must be a map`);
    const cps = ef.spec?.configPatches;
    if (!Array.isArray(cps) || cps.length === 0) errs.push(`${w}: spec.configPatches is required`);
    for (const [i, cp] of (cps ?? []).entries()) {
      const wi = `${w} configPatches[${i}]`;
      if (!APPLY_TO.includes(cp.applyTo)) errs.push(`${wi}: applyTo ${cp.applyTo}`);
      if (cp.match?.context !== undefined && !CONTEXTS.includes(cp.match.context)) errs.push(`${wi}: match.context ${cp.match.context}`);
      if (!OPERATIONS.includes(cp.patch?.operation)) errs.push(`${wi}: patch.operation ${cp.patch?.operation}`);
      if (cp.applyTo !== 'HTTP_FILTER') continue;
      const f = cp.match?.listener?.filterChain?.filter;
      if (f?.name !== HCM) errs.push(`${wi}: an HTTP_FILTER patch matches the ${HCM} filter`);
      if (cp.patch.operation === 'INSERT_BEFORE' && f?.subFilter?.name !== ROUTER) errs.push(`${wi}: insert before subFilter ${ROUTER}`);
      const v = cp.patch?.value;
      if (!isObj(v) || v.name !== 'envoy_ts' || !isObj(v.typed_config)) errs.push(`${wi}: patch.value must be {name: envoy_ts, typed_config}`);
      else { errs.push(...checkModuleFilter(v.typed_config, `${wi}.patch.value`)); patches.push(v); }
    }
  }
  return { errs, patches };
}

// ---- Dockerfiles ----

export function parseDockerfile(text) {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages = [];
  const preamble = [];
  for (const l of lines) {
    const [instr, ...rest] = l.split(/\s+/);
    const ins = { instr: instr.toUpperCase(), args: rest.join(' ') };
    if (ins.instr === 'FROM') stages.push({ from: ins.args, ins: [] });
    else (stages.at(-1)?.ins ?? preamble).push(ins);
  }
  return { preamble, stages };
}

export function checkDockerfile(text, where, { distroless }) {
  const errs = [];
  const { preamble, stages } = parseDockerfile(text);
  if (stages.length < 2) return [`${where}: needs a stage unpacking the artifact and the Envoy stage`];
  const final = stages.at(-1);
  const argDefault = (name) => {
    for (const a of [...preamble, ...stages.flatMap((s) => s.ins)]) {
      if (a.instr === 'ARG' && a.args.startsWith(`${name}=`)) return a.args.slice(name.length + 1);
    }
    return undefined;
  };
  const expand = (s) => s.replace(/\$\{(\w+)\}/g, (_, n) => expand(argDefault(n) ?? ''));
  const base = expand(final.from);
  const wantBase = distroless ? /^envoyproxy\/envoy:distroless-v1\.(39|40)\.\d+$/ : /^envoyproxy\/envoy:v1\.(39|40)\.\d+$/;
  if (!wantBase.test(base)) errs.push(`${where}: the final stage is FROM ${base}, not the official ${distroless ? 'distroless ' : ''}Envoy 1.39/1.40 image`);
  if (!argDefault('ENVOY_TS_VERSION')) errs.push(`${where}: ARG ENVOY_TS_VERSION needs a default`);
  // The artifact (scripts/package.mjs): one top-level folder holding lib/ and share/nodejs/.
  const artifact = 'envoy-ts-${ENVOY_TS_VERSION}-linux-x64-debian12';
  const unpack = stages.find((s) => / AS envoy-ts$/i.test(s.from));
  if (!unpack || !/^scratch /.test(unpack.from)) errs.push(`${where}: the artifact must be unpacked in a \`FROM scratch AS envoy-ts\` stage`);
  else if (!unpack.ins.some((i) => i.instr === 'ADD' && i.args === `${artifact}.tar.gz /`)) {
    errs.push(`${where}: the release artifact ${artifact}.tar.gz is not ADDed (unpacked) at /`);
  }
  const finalCopies = final.ins.filter((i) => i.instr === 'COPY').map((i) => i.args);
  if (!finalCopies.includes(`--from=envoy-ts /${artifact}/lib /opt/envoy-ts/lib`)) errs.push(`${where}: the artifact's lib/ is not copied to /opt/envoy-ts/lib`);
  if (!finalCopies.includes(`--from=envoy-ts /${artifact}/share/nodejs /usr/share/nodejs`)) errs.push(`${where}: the JS builtins are not put in /usr/share/nodejs`);
  const env = new Map(final.ins.filter((i) => i.instr === 'ENV').map((i) => i.args.split('=')).map(([k, ...v]) => [k, v.join('=')]));
  if (env.get('ENVOY_DYNAMIC_MODULES_SEARCH_PATH') !== '/opt/envoy-ts/lib') errs.push(`${where}: ENV ENVOY_DYNAMIC_MODULES_SEARCH_PATH=/opt/envoy-ts/lib is missing from the final stage`);
  // LD_LIBRARY_PATH would win over the artifact's RUNPATH and load the base's own libraries.
  if (env.has('LD_LIBRARY_PATH')) errs.push(`${where}: LD_LIBRARY_PATH overrides the artifact's own libraries`);
  if (!finalCopies.includes(`filters.js ${RECIPE_BUNDLE}`)) errs.push(`${where}: the bundle is not copied to ${RECIPE_BUNDLE}`);
  if (!finalCopies.includes('envoy.yaml /etc/envoy/envoy.yaml')) errs.push(`${where}: envoy.yaml is not copied to /etc/envoy/envoy.yaml`);
  if (distroless && final.ins.some((i) => i.instr === 'RUN')) errs.push(`${where}: RUN in the distroless stage (it has no shell)`);
  const runs = stages.flatMap((s) => s.ins).filter((i) => i.instr === 'RUN').map((i) => i.args);
  for (const r of runs) {
    const sh = spawnSync('sh', ['-n', '-c', r], { encoding: 'utf8' });
    if (sh.status !== 0) errs.push(`${where}: RUN is not valid sh: ${sh.stderr.trim()}`);
  }
  return errs;
}

// ---- the conformance host ----

const tmp = mkdtempSync(join(tmpdir(), 'envoy-ts-recipes-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function validateInHost(name, yamlText) {
  assert.ok(existsSync(host), `${host} is missing: run \`bash scripts/setup.sh --build-only\``);
  assert.ok(existsSync(exampleBundle), `${exampleBundle} is missing: run the build`);
  const file = join(tmp, name);
  writeFileSync(file, yamlText.split(RECIPE_BUNDLE).join(exampleBundle));
  const r = spawnSync(host, ['--mode', 'validate', '-c', file], {
    cwd: root, encoding: 'utf8', timeout: 60_000,
    env: { ...process.env, ENVOY_DYNAMIC_MODULES_SEARCH_PATH: join(root, 'build', 'Release') },
  });
  assert.equal(r.status, 0, `${name} does not validate in the host:\n${r.stderr}`);
  assert.equal(r.stdout, `configuration '${file}' OK\n`);
}

// envoy-1.40.yaml with its envoy_ts HTTP filter's typed_config replaced (ECDS, Envoy Gateway and
// Istio deliver that part; the rest of the listener is the same in each case).
function withHttpFilter(typedConfig) {
  const [doc] = load('envoy-1.40.yaml');
  const hcm = doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  const i = hcm.http_filters.findIndex((f) => f.name === 'envoy_ts');
  assert.ok(i >= 0 && hcm.http_filters.at(-1).name === ROUTER);
  hcm.http_filters[i] = { name: 'envoy_ts', typed_config: typedConfig };
  return JSON.stringify(doc, null, 1);
}

// ---- the tests ----

test('envoy-configs/ holds the recipes README indexes', () => {
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  for (const f of [...yamlFiles, ...dockerfiles]) assert.ok(readme.includes(f), `envoy-configs/README.md does not mention ${f}`);
  for (const f of ['envoy-1.39.yaml', 'envoy-1.40.yaml', 'ecds.yaml', 'ecds-envoy_ts.yaml', 'envoy-gateway.yaml',
                   'istio-envoyfilter.yaml', 'Dockerfile.distroless', 'Dockerfile.ubuntu']) {
    assert.ok(files.includes(f), `${f} is missing`);
  }
  for (const f of [...yamlFiles, ...dockerfiles]) {
    assert.match(readFileSync(join(dir, f), 'utf8'), /^# \S/m, `${f} has no header comment`);
  }
});

for (const file of yamlFiles) {
  test(`${file}: parses, and every envoy_ts filter config is one the module accepts`, () => {
    const docs = load(file);
    assert.ok(docs.length > 0);
    const kinds = new Set(docs.map(kindOf));
    assert.ok(!kinds.has('unknown'), `${file}: a document is neither an Envoy bootstrap, an xDS resource file nor a Kubernetes manifest`);
    const found = docs.flatMap((d) => moduleFilters(d));
    for (const { path, tc } of found) assert.deepEqual(checkModuleFilter(tc, `${file}: ${path}`), []);
    if (kinds.has('envoy') || kinds.has('xds-resources')) assert.ok(found.length > 0 || file === 'ecds.yaml', `${file}: no envoy_ts filter`);
  });
}

for (const file of yamlFiles.filter((f) => load(f).every((d) => kindOf(d) === 'envoy'))) {
  if (PARSE_ONLY[file]) {
    test(`${file}: parsed only (${PARSE_ONLY[file]})`, () => {});
    continue;
  }
  test(`${file}: loads in the conformance host (--mode validate)`, () => {
    validateInHost(file, readFileSync(join(dir, file), 'utf8'));
  });
}

test('envoy-1.39.yaml and envoy-1.40.yaml configure the same thing (the differences are in Envoy, said in their headers)', () => {
  assert.deepEqual(load('envoy-1.39.yaml'), load('envoy-1.40.yaml'));
  assert.match(readFileSync(join(dir, 'envoy-1.40.yaml'), 'utf8'), /RTLD_NOW/);
  assert.match(readFileSync(join(dir, 'envoy-1.40.yaml'), 'utf8'), /log_v2/);
});

test('ecds.yaml + ecds-envoy_ts.yaml: a file-based ECDS subscription and its TypedExtensionConfig', () => {
  const [boot] = load('ecds.yaml');
  assert.ok(boot.node?.id && boot.node?.cluster, 'an xDS subscription needs node.id and node.cluster');
  const hcm = boot.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  const f = hcm.http_filters.find((x) => x.config_discovery);
  assert.ok(f, 'no HTTP filter with config_discovery');
  assert.equal(f.typed_config, undefined, 'config_discovery and typed_config are exclusive');
  const cd = f.config_discovery;
  assert.deepEqual(cd.type_urls, [HTTP_FILTER_TYPE]);
  const pcs = cd.config_source?.path_config_source;
  assert.ok(pcs?.path?.startsWith('/'), 'config_source.path_config_source.path must be absolute');
  if (pcs.watched_directory) assert.equal(dirname(pcs.path), pcs.watched_directory.path);
  assert.ok(['V3', undefined].includes(cd.config_source.resource_api_version));
  assert.ok(hcm.http_filters.indexOf(f) < hcm.http_filters.findIndex((x) => x.name === ROUTER));

  const [res] = load('ecds-envoy_ts.yaml');
  assert.equal(res.resources.length, 1);
  const r = res.resources[0];
  assert.equal(r['@type'], TYPED_EXTENSION_CONFIG);
  assert.equal(r.name, f.name, 'the resource name must be the HTTP filter name');
  assert.ok(cd.type_urls.includes(r.typed_config['@type']));
  assert.deepEqual(checkModuleFilter(r.typed_config, 'ecds-envoy_ts.yaml'), []);
  // What ECDS delivers must load: the same filter config, static, in the host.
  validateInHost('ecds-as-static.yaml', withHttpFilter(r.typed_config));
});

test('envoy-gateway.yaml: EnvoyProxy, GatewayClass, Gateway and EnvoyExtensionPolicy fields as Envoy Gateway documents', () => {
  const docs = load('envoy-gateway.yaml');
  for (const d of docs) {
    assert.ok(d.metadata?.name, `${d.kind}: metadata.name`);
    assert.ok([EG, `${GWAPI_GROUP}/v1`].includes(d.apiVersion), `${d.kind}: apiVersion ${d.apiVersion}`);
  }
  assert.deepEqual(docs.map((d) => d.kind).sort(), ['EnvoyExtensionPolicy', 'EnvoyProxy', 'Gateway', 'GatewayClass']);
  const { errs, policies } = checkEnvoyGateway(docs, 'envoy-gateway.yaml');
  assert.deepEqual(errs, []);
  const gw = docs.find((d) => d.kind === 'Gateway');
  assert.equal(gw.spec.gatewayClassName, docs.find((d) => d.kind === 'GatewayClass').metadata.name);
  // The filter config Envoy Gateway generates from the policy loads in the module.
  for (const dm of policies.flatMap((p) => p.spec.dynamicModule)) {
    validateInHost(`eg-${dm.name}.yaml`, withHttpFilter(egFilter(dm)));
  }
});

test('istio-envoyfilter.yaml: EnvoyFilter fields as Istio documents; its patch loads in the host', () => {
  const docs = load('istio-envoyfilter.yaml');
  assert.deepEqual(docs.map((d) => d.kind), ['EnvoyFilter']);
  const { errs, patches } = checkIstio(docs, 'istio-envoyfilter.yaml');
  assert.deepEqual(errs, []);
  assert.equal(patches.length, 1);
  validateInHost('istio-patch.yaml', withHttpFilter(patches[0].typed_config));
  const text = readFileSync(join(dir, 'istio-envoyfilter.yaml'), 'utf8');
  assert.match(text, /exported_symbols=enabled/, 'the proxy image notes say an Envoy exporting its symbols is refused');
});

for (const file of dockerfiles) {
  test(`${file}: official Envoy base, the artifact and its JS builtins, the bundle and the search path`, () => {
    const text = readFileSync(join(dir, file), 'utf8');
    assert.deepEqual(checkDockerfile(text, file, { distroless: file.includes('distroless') }), []);
    const yamlNamed = text.match(/e\.g\. (envoy-[\d.]+\.yaml) from this folder/);
    assert.ok(yamlNamed && files.includes(yamlNamed[1]), `${file}: the envoy.yaml it suggests is not in envoy-configs/`);
  });
}

// The checkers must fail on broken recipes, or the tests above prove nothing.
test('the checkers reject broken recipes', () => {
  const [http] = load('envoy-1.40.yaml').flatMap((d) => moduleFilters(d)).map((x) => x.tc);
  const broken = (mut) => { const c = structuredClone(http); mut(c); return checkModuleFilter(c, 'x'); };
  assert.notDeepEqual(broken((c) => { c.dynamic_module_config.do_not_close = false; }), []);
  assert.notDeepEqual(broken((c) => { c.filter_name = 'main'; }), []);
  assert.notDeepEqual(broken((c) => { c.filter_config.value = '{"chain": []'; }), []);
  assert.notDeepEqual(broken((c) => { c.filter_config.value = '{"chain": [{"name": "x"}]}'; }), []);
  assert.notDeepEqual(broken((c) => { c.filter_config['@type'] = 'type.googleapis.com/google.protobuf.Struct'; }), []);

  const eg = load('envoy-gateway.yaml');
  const egBroken = (mut) => { const c = structuredClone(eg); mut(c); return checkEnvoyGateway(c, 'x').errs; };
  const ep = (c) => c.find((d) => d.kind === 'EnvoyProxy');
  const pol = (c) => c.find((d) => d.kind === 'EnvoyExtensionPolicy');
  assert.notDeepEqual(egBroken((c) => { ep(c).spec.dynamicModules[0].doNotClose = false; }), []);
  assert.notDeepEqual(egBroken((c) => { ep(c).spec.dynamicModules[0].source.local.path = 'lib/libenvoy_ts.so'; }), []);
  assert.notDeepEqual(egBroken((c) => { pol(c).spec.dynamicModule[0].name = 'other'; }), []);
  assert.notDeepEqual(egBroken((c) => { pol(c).spec.dynamicModule[0].module = 'envoy-ts'; }), []);
  assert.notDeepEqual(egBroken((c) => { pol(c).spec.targetRefs[0].kind = 'Service'; }), []);
  assert.notDeepEqual(egBroken((c) => { delete pol(c).spec.dynamicModule[0].config.bundle; }), []);

  const istio = load('istio-envoyfilter.yaml');
  const isBroken = (mut) => { const c = structuredClone(istio); mut(c); return checkIstio(c, 'x').errs; };
  assert.notDeepEqual(isBroken((c) => { c[0].spec.configPatches[0].patch.operation = 'INSERT_BEFOR'; }), []);
  assert.notDeepEqual(isBroken((c) => { c[0].spec.configPatches[0].match.listener.filterChain.filter.subFilter.name = 'x'; }), []);
  assert.notDeepEqual(isBroken((c) => { c[0].apiVersion = 'networking.istio.io/v2'; }), []);

  const df = readFileSync(join(dir, 'Dockerfile.distroless'), 'utf8');
  const dfBroken = (from, to) => checkDockerfile(df.replace(from, to), 'x', { distroless: true });
  assert.notDeepEqual(dfBroken('ENV ENVOY_DYNAMIC_MODULES_SEARCH_PATH=/opt/envoy-ts/lib\n', ''), []);
  assert.notDeepEqual(dfBroken('ADD envoy-ts-${ENVOY_TS_VERSION}', 'ADD envoy-ts-latest'), []);
  assert.notDeepEqual(dfBroken('# No RUN here: the distroless image has no shell.\n', 'RUN true\n'), []);
  assert.notDeepEqual(dfBroken('share/nodejs /usr/share/nodejs', 'share/nodejs /opt/nodejs'), []);
  assert.notDeepEqual(dfBroken('ENV ENVOY_DYNAMIC', 'ENV LD_LIBRARY_PATH=/usr/lib\nENV ENVOY_DYNAMIC'), []);
  assert.notDeepEqual(dfBroken('FROM envoyproxy/envoy:distroless-${ENVOY_VERSION}', 'FROM envoyproxy/envoy:${ENVOY_VERSION}'), []);
  const ub = readFileSync(join(dir, 'Dockerfile.ubuntu'), 'utf8');
  assert.notDeepEqual(checkDockerfile(ub.replace("then \\", "then; \\"), 'x', { distroless: false }), []);
});

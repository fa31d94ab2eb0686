// `envoy-ts check`: validates an envoy.yaml, or one filter config, the way the proxy would load it
// (`--mode validate`: every filter config and per-route config goes through the module's
// config_new, which loads the bundle and checks chains, schemas and exports), without serving.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';

import { stringify } from 'yaml';

import { chooseProxy, proxyEnv } from './proxy';

const HTTP_FILTER = 'type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter';
const NETWORK_FILTER = 'type.googleapis.com/envoy.extensions.filters.network.dynamic_modules.v3.DynamicModuleNetworkFilter';

/** An envoy.yaml with one listener whose envoy-ts filter has `filterConfig` (the chain JSON). */
export function wrapFilterConfig(filterConfig: string, network: boolean): string {
  const moduleFilter = {
    dynamic_module_config: { name: 'envoy_ts', do_not_close: true },
    filter_name: 'chain',
    filter_config: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: filterConfig },
  };
  const address = { socket_address: { address: '127.0.0.1', port_value: 10000 } };
  const cluster = {
    name: 'upstream', type: 'STATIC', connect_timeout: '1s',
    load_assignment: { cluster_name: 'upstream', endpoints: [{ lb_endpoints: [{ endpoint: { address: {
      socket_address: { address: '127.0.0.1', port_value: 10001 } } } }] }] },
  };
  const filters = network
    ? [{ name: 'envoy_ts', typed_config: { '@type': NETWORK_FILTER, ...moduleFilter } },
       { name: 'envoy.filters.network.tcp_proxy', typed_config: {
         '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
         stat_prefix: 'tcp', cluster: 'upstream' } }]
    : [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
         '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
         stat_prefix: 'ingress_http',
         route_config: { virtual_hosts: [{ name: 'all', domains: ['*'],
                                           routes: [{ match: { prefix: '/' }, route: { cluster: 'upstream' } }] }] },
         http_filters: [
           { name: 'envoy_ts', typed_config: { '@type': HTTP_FILTER, ...moduleFilter } },
           { name: 'envoy.filters.http.router',
             typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
         ] } }];
  return stringify({ static_resources: { listeners: [{ name: 'checked', address, filter_chains: [{ filters }] }],
                                         clusters: [cluster] } });
}

export interface CheckOptions {
  /** The file is a network (L4) chain's filter config. */
  readonly network: boolean;
}

/** Validates and returns the exit code; the proxy's own messages go to the terminal. */
export function check(file: string, options: CheckOptions): number {
  const proxy = chooseProxy();
  console.log(`[check] validating ${file} with ${proxy.description}`);
  let configPath = resolve(file);
  let scratch: string | undefined;
  if (extname(file) === '.json') {
    scratch = mkdtempSync(join(tmpdir(), 'envoy-ts-check-'));
    // The proxy's messages name this file: let it say which config it wraps.
    configPath = join(scratch, `${basename(file)}.envoy.yaml`);
    writeFileSync(configPath, wrapFilterConfig(readFileSync(file, 'utf8'), options.network));
  }
  try {
    // Relative bundle paths resolve against the working directory, as they will in the proxy.
    const result = spawnSync(proxy.path, ['--mode', 'validate', '-c', configPath, '-l', 'warn'],
                             { stdio: 'inherit', env: proxyEnv() });
    if (result.error) throw result.error;
    const ok = result.status === 0;
    console.log(ok ? `[check] ${file}: OK` : `[check] ${file}: rejected (see the messages above)`);
    return ok ? 0 : 1;
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

// The envoy.yaml the host engine serves: one listener → http_connection_manager → the envoy_ts
// filter with the chain → router → the test's upstream, one route per per-route config (longest
// prefix first) and one STATIC cluster per cluster handler. Valid for Envoy and the host.

import type { ChainSetup } from './options';

/** The http filter's name: per-route configs are keyed by it. */
const FILTER_NAME = 'envoy_ts';

interface HostYamlOptions {
  readonly listenPort: number;
  readonly adminPort: number;
  readonly upstreamPort: number;
  readonly clusters: readonly { readonly name: string; readonly port: number }[];
  readonly filterConfig: ChainSetup['filterConfig'];
  readonly routes: ChainSetup['routes'];
  readonly bufferLimitBytes: number;
}

function clusterYaml(name: string, port: number): string {
  return `
  - name: ${JSON.stringify(name)}
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config:
          http_protocol_options: { enable_trailers: true }
    load_assignment:
      cluster_name: ${JSON.stringify(name)}
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: ${port} }`;
}

function routeYaml(prefix: string, perRoute: string | undefined): string {
  const perFilter = perRoute === undefined ? '' : `
                typed_per_filter_config:
                  ${FILTER_NAME}:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilterPerRoute
                    dynamic_module_config: { name: envoy_ts, do_not_close: true }
                    per_route_config_name: chain
                    filter_config:
                      "@type": type.googleapis.com/google.protobuf.StringValue
                      value: ${JSON.stringify(perRoute)}`;
  return `
              - match: { prefix: ${JSON.stringify(prefix)} }
                route: { cluster: upstream }${perFilter}`;
}

export function hostYaml(options: HostYamlOptions): string {
  const { bundle } = options.filterConfig;
  const prefixes = Object.keys(options.routes).sort((a, b) => b.length - a.length);
  const routes = prefixes.map((prefix) => routeYaml(prefix, JSON.stringify({ bundle, filters: options.routes[prefix] })));
  if (!prefixes.includes('/')) routes.push(routeYaml('/', undefined));
  return `admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: ${options.adminPort} }
static_resources:
  listeners:
  - name: http
    address:
      socket_address: { address: 127.0.0.1, port_value: ${options.listenPort} }
    per_connection_buffer_limit_bytes: ${options.bufferLimitBytes}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          http_protocol_options: { enable_trailers: true }
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:${routes.join('')}
          http_filters:
          - name: ${FILTER_NAME}
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter
              dynamic_module_config: { name: envoy_ts, do_not_close: true }
              filter_name: chain
              filter_config:
                "@type": type.googleapis.com/google.protobuf.StringValue
                value: ${JSON.stringify(JSON.stringify(options.filterConfig))}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:${clusterYaml('upstream', options.upstreamPort)}${options.clusters.map(({ name, port }) => clusterYaml(name, port)).join('')}
`;
}

// The envoy.yaml every test and benchmark runs: one listener → http_connection_manager → the
// given dynamic-module filters → router → the `upstream` cluster (or, per route, another one),
// with an admin endpoint. Valid for real Envoy and for the conformance host.
import net from 'node:net';

/** A loopback port nobody listens on right now. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * `upstreamPort`: the port of the `upstream` cluster's endpoint on 127.0.0.1, or a list of ports
 * (one endpoint each, round-robin). `extraClusters`: more STATIC clusters [{ name, port }] on
 * 127.0.0.1 (callouts, or routes to another cluster).
 * `filters`: [{ module, filterName, config (string), doNotClose = true, name }], in chain order;
 * `name` is the http filter's name, `<module>_<index>` by default.
 * `routes`: [{ prefix, name?, cluster = 'upstream', perRoute? }] (default: one route for "/"), the
 * routes of the one virtual host "all" (domains "*"); `name` is the route's name (none when
 * absent). `perRoute`: { <filter name>: { module, config (string), perRouteConfigName = 'chain',
 * doNotClose = true } }, written as the route's typed_per_filter_config
 * (DynamicModuleFilterPerRoute); an entry { type } is written as a config of that other type,
 * its "@type" only.
 * `virtualHosts`: [{ name, domains = ["*"], perRoute?, routes }] replaces that virtual host (and
 * `routes`) with these, in order; `perRoute` is the virtual host's typed_per_filter_config.
 * `perConnectionBufferLimitBytes` becomes the listener's per_connection_buffer_limit_bytes
 * (Envoy's default, 1 MiB, when absent).
 * Over HTTP/1.1 Envoy drops trailers unless its HTTP/1 codec has `enable_trailers`, so by default
 * both sides set it: the connection manager's `http_protocol_options` (downstream) and every
 * cluster's HttpProtocolOptions (upstream: the router and callouts).
 * `downstreamEnableTrailers` / `upstreamEnableTrailers` (default true) are written as the
 * `enable_trailers` value of each side (any YAML scalar); null leaves that side's options out
 * (Envoy's default: trailers dropped).
 * `statsFlushInterval`: see statsFlushYaml.
 */
export function httpProxyYaml({ listenPort, adminPort, upstreamPort, filters, extraClusters = [],
                                routes = [{ prefix: '/' }],
                                virtualHosts = [{ name: 'all', routes }],
                                perConnectionBufferLimitBytes,
                                downstreamEnableTrailers = true, upstreamEnableTrailers = true,
                                statsFlushInterval }) {
  const httpFilters = filters.map(({ module, filterName, config, doNotClose = true, name }, i) => `
          - name: ${name ?? `${module}_${i}`}
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter
              dynamic_module_config: { name: ${module}, do_not_close: ${doNotClose} }
              filter_name: ${filterName}
              filter_config:
                "@type": type.googleapis.com/google.protobuf.StringValue
                value: ${JSON.stringify(config)}`).join('');
  return `${statsFlushYaml(statsFlushInterval)}admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: ${adminPort} }
static_resources:
  listeners:
  - name: http
    address:
      socket_address: { address: 127.0.0.1, port_value: ${listenPort} }${
  perConnectionBufferLimitBytes === undefined ? '' : `
    per_connection_buffer_limit_bytes: ${perConnectionBufferLimitBytes}`}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http${downstreamEnableTrailers === null ? '' : `
          http_protocol_options: { enable_trailers: ${downstreamEnableTrailers} }`}
          route_config:
            virtual_hosts:${virtualHosts.map(virtualHostYaml).join('')}
          http_filters:${httpFilters}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: upstream
    type: STATIC
    connect_timeout: 1s${upstreamProtocolOptionsYaml(upstreamEnableTrailers)}
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:${[upstreamPort].flat().map((port) => `
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: ${port} }`).join('')}
${staticClustersYaml(extraClusters, upstreamEnableTrailers)}`;
}

/**
 * The bootstrap's `stats_flush_interval` line. Envoy's admin shows a histogram's values only once
 * a stats flush merged them (every 5 s by default), so the generated configs flush every 0.1 s
 * (`interval`, a protobuf Duration) and a test that reads a histogram polls /stats until the
 * values it waits for appear. null leaves the field out (Envoy's 5 s).
 */
function statsFlushYaml(interval = '0.1s') {
  return interval === null ? '' : `stats_flush_interval: ${interval}\n`;
}

/**
 * A cluster's typed_extension_protocol_options: HTTP/1.1 upstream with `enable_trailers` set to
 * `enableTrailers`; nothing when it is null.
 */
function upstreamProtocolOptionsYaml(enableTrailers) {
  if (enableTrailers === null) return '';
  return `
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config:
          http_protocol_options: { enable_trailers: ${enableTrailers} }`;
}

function virtualHostYaml({ name, domains = ['*'], perRoute = {}, routes }) {
  const perFilter = perFilterConfigYaml(perRoute, ' '.repeat(16));
  return `
            - name: ${name}
              domains: ${JSON.stringify(domains)}${perFilter === '' ? '' : `
              typed_per_filter_config:${perFilter}`}
              routes:${routes.map(routeYaml).join('')}`;
}

function routeYaml({ prefix, name, cluster = 'upstream', perRoute = {} }) {
  const match = `match: { prefix: ${JSON.stringify(prefix)} }`;
  const perFilter = perFilterConfigYaml(perRoute, ' '.repeat(18));
  return `
              - ${name === undefined ? match : `name: ${name}
                ${match}`}
                route: { cluster: ${cluster} }${perFilter === '' ? '' : `
                typed_per_filter_config:${perFilter}`}`;
}

/** The entries of a typed_per_filter_config (see httpProxyYaml's `perRoute`), indented by `pad`. */
function perFilterConfigYaml(perRoute, pad) {
  return Object.entries(perRoute).map(([filter, entry]) => {
    if (entry.type !== undefined) {
      return `
${pad}${filter}:
${pad}  "@type": ${entry.type}`;
    }
    const { module, config, perRouteConfigName = 'chain', doNotClose = true } = entry;
    return `
${pad}${filter}:
${pad}  "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilterPerRoute
${pad}  dynamic_module_config: { name: ${module}, do_not_close: ${doNotClose} }
${pad}  per_route_config_name: ${perRouteConfigName}
${pad}  filter_config:
${pad}    "@type": type.googleapis.com/google.protobuf.StringValue
${pad}    value: ${JSON.stringify(config)}`;
  }).join('');
}

/**
 * STATIC clusters on 127.0.0.1, as `clusters:` list items, each with HttpProtocolOptions setting
 * `enable_trailers` to `enableTrailers` (none when it is null).
 */
function staticClustersYaml(clusters, enableTrailers = true) {
  return clusters.map(({ name, port }) => `  - name: ${name}
    type: STATIC
    connect_timeout: 1s${upstreamProtocolOptionsYaml(enableTrailers)}
    load_assignment:
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: ${port} }
`).join('');
}

/**
 * The envoy.yaml of a TCP proxy: one listener → the given dynamic-module network filters →
 * tcp_proxy (to `defaultCluster`, or to the cluster a filter puts in the typed filter state
 * `envoy.tcp_proxy.cluster`), with an admin endpoint and one STATIC cluster per `clusters` entry.
 * `filters`: [{ module, filterName, config (string), doNotClose = true }], in chain order.
 * The clusters carry the HTTP protocol options of httpProxyYaml's (tcp_proxy does not use them).
 * `statsFlushInterval`: see statsFlushYaml. Valid for real Envoy and for the conformance host.
 */
export function tcpProxyYaml({ listenPort, adminPort, clusters, filters = [], defaultCluster,
                               statsFlushInterval }) {
  const cluster = defaultCluster ?? clusters[0]?.name;
  const networkFilters = filters.map(({ module, filterName, config, doNotClose = true }, i) => `
      - name: ${module}_${i}
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.dynamic_modules.v3.DynamicModuleNetworkFilter
          dynamic_module_config: { name: ${module}, do_not_close: ${doNotClose} }
          filter_name: ${filterName}
          filter_config:
            "@type": type.googleapis.com/google.protobuf.StringValue
            value: ${JSON.stringify(config)}`).join('');
  return `${statsFlushYaml(statsFlushInterval)}admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: ${adminPort} }
static_resources:
  listeners:
  - name: tcp
    address:
      socket_address: { address: 127.0.0.1, port_value: ${listenPort} }
    filter_chains:
    - filters:${networkFilters}
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          cluster: ${cluster}
  clusters:
${staticClustersYaml(clusters)}`;
}

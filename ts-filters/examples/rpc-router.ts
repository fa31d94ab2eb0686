// rpc-router: route a connection by the service named in its first RPC frame (network filter,
// before tcp_proxy), in the spirit of MOSN's XProtocol.
//
// Frame: a 4-byte big-endian length (of what follows it), a 1-byte service-name length, the
// service name (UTF-8), then the payload. The filter holds the connection in onNewConnection
// (StopIteration: tcp_proxy has not connected anywhere yet) until the first frame is complete,
// picks the cluster for its service, hands it to tcp_proxy in the typed filter state
// `envoy.tcp_proxy.cluster`, and returns Continue: tcp_proxy then connects to that cluster and
// sends everything held so far, first frame included. Later bytes pass through untouched. An
// unknown service (and no default) gets an error frame for service `error`, and the connection
// is closed. A client that never sends a complete frame is bounded by Envoy's timeouts.
//
// tcp_proxy read-disables the connection when the filter chain is built and enables it again once
// its upstream is connected. To see the first frame before that, the filter undoes that disable
// in onNewConnection and restores it when it hands over (read-disabling is counted, so the
// counts stay balanced and tcp_proxy's own enable after connecting ends the pause).

import {
  ChunkedBytes,
  FrameError,
  NetworkStatus,
  defineNetworkFilter,
  lengthPrefixed,
  type LengthPrefixedFraming,
  type NetworkFilter,
  type NetworkFilterContext,
} from 'envoy-ts';

/** rpc-router's config, as written in the chain entry. */
export interface RpcRouterConfig {
  /** Service name → cluster. */
  readonly routes: Readonly<Record<string, string>>;
  /** Cluster for services not in `routes` (default: reject them). */
  readonly default?: string;
  /** Largest frame accepted, length field included (default 1 MiB). */
  readonly maxFrameSize?: number;
}

interface ParsedConfig {
  readonly routes: ReadonlyMap<string, string>;
  readonly fallback: string | undefined;
  readonly framing: LengthPrefixedFraming;
}

const KEYS = new Set(['routes', 'default', 'maxFrameSize']);

function parseConfig(raw: unknown): ParsedConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TypeError('config must be an object like {"routes": {"svc": "cluster"}}');
  }
  const config = raw as Record<string, unknown>;
  const unknownKeys = Object.keys(config).filter((key) => !KEYS.has(key));
  if (unknownKeys.length > 0) throw new TypeError(`unknown config key(s): ${unknownKeys.join(', ')}`);
  const { routes, default: fallback, maxFrameSize = 1 << 20 } = config;
  if (typeof routes !== 'object' || routes === null || Array.isArray(routes)) {
    throw new TypeError('"routes" must be an object of service name → cluster');
  }
  const entries = Object.entries(routes as Record<string, unknown>);
  for (const [service, cluster] of entries) {
    if (service === '' || Buffer.byteLength(service) > 255) {
      throw new TypeError(`"routes": service names must be 1-255 bytes, got ${JSON.stringify(service)}`);
    }
    if (typeof cluster !== 'string' || cluster === '') {
      throw new TypeError(`"routes": the cluster of ${JSON.stringify(service)} must be a non-empty string`);
    }
  }
  if (fallback !== undefined && (typeof fallback !== 'string' || fallback === '')) {
    throw new TypeError('"default" must be a non-empty string');
  }
  if (typeof maxFrameSize !== 'number' || !Number.isSafeInteger(maxFrameSize) || maxFrameSize < 5) {
    throw new TypeError('"maxFrameSize" must be an integer >= 5');
  }
  return {
    routes: new Map(entries as [string, string][]),
    fallback,
    framing: lengthPrefixed({ lengthFieldSize: 4, maxFrameSize }),
  };
}

/** A frame of the protocol: service name and payload (strings as UTF-8). */
export function encodeRpcFrame(service: string, payload: Uint8Array | string): Uint8Array {
  const name = Buffer.from(service, 'utf8');
  if (name.length > 255) throw new RangeError('service name longer than 255 bytes');
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return lengthPrefixed({ maxFrameSize: 2 ** 32 }).encode(Buffer.concat([Uint8Array.of(name.length), name, body]));
}

/** The service name of a complete frame, or undefined when its header is inconsistent. */
function serviceOf(frame: Uint8Array): string | undefined {
  const nameLength = frame[4];
  if (nameLength === undefined || 5 + nameLength > frame.length) return undefined;
  return Buffer.from(frame.buffer, frame.byteOffset + 5, nameLength).toString('utf8');
}

/** Connections already routed: their bytes pass through. */
const routed = new WeakSet<object>();

function reject(ctx: NetworkFilterContext<ParsedConfig>, why: string): NetworkStatus {
  ctx.metrics.increment('rejected');
  ctx.log.debug('rejecting connection: %s', why);
  ctx.write(encodeRpcFrame('error', why));
  ctx.close('flush');
  return NetworkStatus.StopIteration;
}

/** Routes each connection to a cluster by its first frame's service (config: RpcRouterConfig). */
export const rpcRouter: NetworkFilter<ParsedConfig> = defineNetworkFilter({
  name: 'rpc-router',
  parseConfig,
  metrics: { routed: 'counter', rejected: 'counter' },

  // Hold the connection: tcp_proxy connects only once iteration reaches it. Meanwhile read the
  // client (undo tcp_proxy's read-disable until the first frame is in).
  onNewConnection(ctx) {
    ctx.readDisable(false);
    return NetworkStatus.StopIteration;
  },

  onData(data, endStream, ctx) {
    if (routed.has(ctx)) return NetworkStatus.Continue;
    const { routes, fallback, framing } = ctx.config;
    // Only look at the first frame, in place: nothing is drained, so tcp_proxy gets it all.
    let length: number | undefined;
    try {
      length = framing.frameLength(new ChunkedBytes(data.chunks()), 0);
    } catch (error) {
      if (error instanceof FrameError) return reject(ctx, error.message);
      throw error;
    }
    if (length === undefined || length > data.length) {
      return endStream ? reject(ctx, 'connection ended before a complete frame') : NetworkStatus.StopIteration;
    }
    const service = serviceOf(data.bytes(0, Math.min(length, 5 + 255)));
    if (service === undefined) return reject(ctx, 'invalid frame header');
    const cluster = routes.get(service) ?? fallback;
    if (cluster === undefined) return reject(ctx, `unknown service '${service}'`);
    ctx.setFilterState('envoy.tcp_proxy.cluster', cluster, { typed: true });
    ctx.setMetadata('envoy-ts.rpc', 'service', service);
    ctx.metrics.increment('routed');
    routed.add(ctx);
    // Give tcp_proxy its read-disable back: it enables reading once connected.
    ctx.readDisable(true);
    return NetworkStatus.Continue;
  },
});

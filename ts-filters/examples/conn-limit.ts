// conn-limit: at most `maxPerIp` concurrent connections per client IP, across all Envoy workers.
//
// Module-level JavaScript state is per worker, so the count lives in `ctx.shared` counters, which
// every worker of the process shares. The count goes up in onNewConnection and down in onClose,
// once per connection that was counted. A connection over the cap is closed before tcp_proxy
// connects upstream (onNewConnection returns StopIteration), after an optional message.

import { NetworkStatus, defineNetworkFilter, type NetworkFilter } from 'envoy-ts';

/** conn-limit's config, as written in the chain entry. */
export interface ConnLimitConfig {
  /** Concurrent connections allowed per client IP (integer >= 1). */
  readonly maxPerIp: number;
  /** Written to a rejected client before the close (default: nothing). */
  readonly message?: string;
  /**
   * Name of the shared count (default "default"): listeners whose conn-limit filters use the same
   * scope share one cap.
   */
  readonly scope?: string;
}

interface ParsedConfig {
  readonly maxPerIp: number;
  readonly message: string;
  readonly keyPrefix: string;
}

const KEYS = new Set(['maxPerIp', 'message', 'scope']);

function parseConfig(raw: unknown): ParsedConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TypeError('config must be an object like {"maxPerIp": 10}');
  }
  const config = raw as Record<string, unknown>;
  const unknownKeys = Object.keys(config).filter((key) => !KEYS.has(key));
  if (unknownKeys.length > 0) throw new TypeError(`unknown config key(s): ${unknownKeys.join(', ')}`);
  const { maxPerIp, message = '', scope = 'default' } = config;
  if (typeof maxPerIp !== 'number' || !Number.isSafeInteger(maxPerIp) || maxPerIp < 1) {
    throw new TypeError('"maxPerIp" must be an integer >= 1');
  }
  if (typeof message !== 'string') throw new TypeError('"message" must be a string');
  if (typeof scope !== 'string' || scope === '') throw new TypeError('"scope" must be a non-empty string');
  return { maxPerIp, message, keyPrefix: `conn-limit/${scope}/` };
}

/** The shared key a connection was counted under; absent for connections not counted. */
const countedUnder = new WeakMap<object, string>();

/** Caps concurrent connections per client IP (config: ConnLimitConfig). */
export const connLimit: NetworkFilter<ParsedConfig> = defineNetworkFilter({
  name: 'conn-limit',
  parseConfig,
  metrics: { rejected: 'counter', active: 'gauge' },

  onNewConnection(ctx) {
    const { maxPerIp, message, keyPrefix } = ctx.config;
    // Non-IP connections (e.g. a Unix socket) share one count.
    const key = keyPrefix + (ctx.connection.remoteAddress || 'non-ip');
    // Count first, then check: two workers accepting at once cannot both slip under the cap.
    if (ctx.shared.add(key, 1) > maxPerIp) {
      ctx.shared.add(key, -1);
      ctx.metrics.increment('rejected');
      if (message !== '') ctx.write(message);
      ctx.close('flush');
      return NetworkStatus.StopIteration;
    }
    countedUnder.set(ctx, key);
    ctx.metrics.add('active', 1);
    return NetworkStatus.Continue;
  },

  onClose(_event, ctx) {
    const key = countedUnder.get(ctx);
    if (key === undefined) return;  // rejected, or already released
    countedUnder.delete(ctx);
    ctx.shared.add(key, -1);
    ctx.metrics.add('active', -1);
  },
});

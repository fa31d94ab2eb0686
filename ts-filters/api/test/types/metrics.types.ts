// ctx.metrics typed from the declared metrics: names, the operations of each kind, label keys.

import {
  defineHttpFilter,
  defineNetworkFilter,
  type HttpFilter,
  type Metrics,
  type MetricsDeclaration,
  type NetworkFilter,
} from 'envoy-ts';

import { expectType } from './expect';

export const http = defineHttpFilter({
  name: 'http-metrics',
  metrics: {
    denied: { kind: 'counter', labels: ['reason'] },
    requests: 'counter',
    routed: { kind: 'counter', labels: ['cluster', 'code'] },
    cached: { kind: 'counter' },
    inflight: 'gauge',
    queue: { kind: 'gauge', labels: ['pool'] },
    latencyMs: 'histogram',
    sizes: { kind: 'histogram', labels: ['direction'] },
  },
  onRequestHeaders(_headers, ctx) {
    const { metrics } = ctx;
    metrics.increment('requests');
    metrics.increment('requests', 2);
    metrics.increment('cached');
    metrics.increment('denied', 1, { reason: 'bad-key' });
    metrics.increment('routed', 1, { cluster: 'a', code: '2xx' });
    metrics.set('inflight', 3);
    metrics.add('inflight', -1);
    metrics.add('queue', 1, { pool: 'p' });
    metrics.record('latencyMs', 12);
    metrics.record('sizes', 512, { direction: 'in' });

    // @ts-expect-error: no metric 'requets'
    metrics.increment('requets');
    // @ts-expect-error: a gauge is not incremented
    metrics.increment('inflight');
    // @ts-expect-error: a counter is not set
    metrics.set('requests', 1);
    // @ts-expect-error: a histogram is not added to
    metrics.add('latencyMs', 1);
    // @ts-expect-error: only histograms record
    metrics.record('inflight', 1);
    // @ts-expect-error: a labelled counter takes its labels
    metrics.increment('denied');
    // @ts-expect-error: ... after its value
    metrics.increment('denied', { reason: 'x' });
    // @ts-expect-error: a declared label is missing
    metrics.increment('routed', 1, { cluster: 'a' });
    // @ts-expect-error: a label that is not declared
    metrics.increment('denied', 1, { reason: 'x', user: 'u' });
    // @ts-expect-error: an unlabelled metric takes no labels
    metrics.increment('requests', 1, { reason: 'x' });
    // @ts-expect-error: not even empty ones
    metrics.set('inflight', 1, {});
    // @ts-expect-error: label values are strings
    metrics.record('sizes', 1, { direction: 1 });
    // @ts-expect-error: a gauge's value is required
    metrics.set('inflight');
  },
});

// Annotating the definition with the config type alone still accepts it.
export const annotated: HttpFilter = http;

// A function of the config: typed from what it returns.
defineHttpFilter({
  name: 'metrics-of-config',
  parseConfig: (raw: unknown) => ({ upstreams: Array.isArray(raw) ? raw.map(String) : [] }),
  metrics: (config) => ({
    picked: { kind: 'counter', labels: ['upstream'] },
    upstreams: config.upstreams.length > 0 ? 'gauge' : 'gauge',
  }),
  onRequestHeaders(_headers, ctx) {
    ctx.metrics.increment('picked', 1, { upstream: ctx.config.upstreams[0] ?? '-' });
    ctx.metrics.set('upstreams', ctx.config.upstreams.length);
    // @ts-expect-error: the label is 'upstream'
    ctx.metrics.increment('picked', 1, { cluster: 'a' });
    // @ts-expect-error: no such metric
    ctx.metrics.increment('missing');
  },
});

// Names only known at run time: a declaration typed with a string index keeps the untyped API
// (the runtime checks names, kinds and labels).
defineHttpFilter({
  name: 'dynamic-names',
  metrics: (): MetricsDeclaration => ({ 'route.a': 'counter', 'route.b': 'counter' }),
  onRequestHeaders(headers, ctx) {
    expectType<typeof ctx.metrics, Metrics>();
    ctx.metrics.increment(`route.${headers.get('x-route') ?? 'a'}`);
  },
});

// An explicit config type argument leaves the metrics untyped unless they are passed too.
const explicitMetrics = { hits: 'counter' } as const;
defineHttpFilter<{ readonly n: number }>({
  name: 'explicit-config',
  parseConfig: () => ({ n: 1 }),
  metrics: explicitMetrics,
  onRequestHeaders(_headers, ctx) {
    expectType<typeof ctx.metrics, Metrics>();
  },
});
defineHttpFilter<{ readonly n: number }, typeof explicitMetrics>({
  name: 'explicit-config-and-metrics',
  parseConfig: () => ({ n: 1 }),
  metrics: explicitMetrics,
  onRequestHeaders(_headers, ctx) {
    ctx.metrics.increment('hits');
    // @ts-expect-error: no such metric
    ctx.metrics.increment('misses');
  },
});

// Network filters: names and kinds, and no labels at all.
export const network = defineNetworkFilter({
  name: 'network-metrics',
  metrics: { rejected: 'counter', active: 'gauge', frameBytes: { kind: 'histogram' } },
  onNewConnection(ctx) {
    ctx.metrics.increment('rejected');
    ctx.metrics.add('active', 1);
    ctx.metrics.record('frameBytes', 10);
    // @ts-expect-error: no metric 'rejectd'
    ctx.metrics.increment('rejectd');
    // @ts-expect-error: a gauge is not incremented
    ctx.metrics.increment('active');
    // @ts-expect-error: network metrics have no labels
    ctx.metrics.increment('rejected', 1, { reason: 'x' });
  },
});
export const networkAnnotated: NetworkFilter = network;

defineNetworkFilter({
  name: 'network-labels',
  // @ts-expect-error: network filter metrics cannot be declared with labels
  metrics: { rejected: { kind: 'counter', labels: ['reason'] } },
});

defineNetworkFilter({
  name: 'network-metrics-of-config',
  parseConfig: (raw: unknown) => ({ histogram: raw === 'histogram' }),
  metrics: (config) => ({ bytes: config.histogram ? 'histogram' : 'counter' }),
  onData(data, _endStream, ctx) {
    // @ts-expect-error: 'bytes' may be a histogram: increment is not for it
    ctx.metrics.increment('bytes');
    // @ts-expect-error: ... nor record, for it may be a counter
    ctx.metrics.record('bytes', data.length);
  },
});

// What source-mapped stack traces cost (ENVOY_TS_SOURCE_MAPS=1, the default, against 0): preparing
// a worker environment (creating it and loading the bundles, whose source maps Node reads then),
// the host's RSS, and formatting an error's stack in a filter (the first time in an environment,
// when Node parses the bundle's map, and after that). Same machine, same run, interleaved.
import { httpProxyYaml } from '../../test/support/proxy-config.mjs';
import { get, launchHost, settledRss, stopCleanly } from './http.mjs';
import { BenchFailure, examplesBundle, fixturesBundle, freePort, log, median } from './util.mjs';

// The examples bundle (the largest: protobufjs, a JWT library) is loaded for its size; the stack-cost
// fixture filter (test/e2e/fixtures/filters.ts) answers every request with its measurements.
const filters = [
  { module: 'envoy_ts', filterName: 'chain', config: JSON.stringify({ bundle: examplesBundle, chain: [{ name: 'request-id' }] }) },
  { module: 'envoy_ts', filterName: 'chain', config: JSON.stringify({ bundle: fixturesBundle, chain: [{ name: 'stack-cost' }], cpuBudgetMs: 0 }) },
];

export const SOURCE_MAP_MODES = [
  { key: 'off', label: 'ENVOY_TS_SOURCE_MAPS=0 (stacks name dist/*.js)', value: '0' },
  { key: 'on', label: 'ENVOY_TS_SOURCE_MAPS=1, the default (stacks name *.ts)', value: '1' },
];

async function stackCost(port, n, where) {
  const response = await get(port, `/?n=${n}`);
  if (response.status !== 200) throw new BenchFailure(`${where}: stack-cost answered ${response.status}: ${response.body}`);
  return JSON.parse(response.body);
}

/** One host start in `mode`: its environments' preparation times, settled RSS and stack costs. */
async function measureOnce(mode, upstreamPort, { stacksPerRequest, requests }) {
  const where = `source maps ${mode.key}`;
  const host = await launchHost(where, ({ listenPort, adminPort }) =>
    httpProxyYaml({ listenPort, adminPort, upstreamPort, filters }), 1,
  { env: { ENVOY_TS_SOURCE_MAPS: mode.value }, logLevel: 'debug' });
  try {
    const rssKiB = await settledRss(host.pid);
    // The worker's environment and the pool's spare, each created and loaded with both bundles.
    const prepareMs = [...host.output.matchAll(/prepared a worker environment in (\d+) ms/g)].map((m) => Number(m[1]));
    if (prepareMs.length === 0) throw new BenchFailure(`${where}: no "prepared a worker environment" line`);
    const first = await stackCost(host.port, 0, where);
    if (!first.first) throw new BenchFailure(`${where}: the first request was not the environment's first stack`);
    const mapped = /\.ts:\d+:\d+/.test(first.topFrame ?? '');
    if (mapped !== (mode.value === '1')) {
      throw new BenchFailure(`${where}: the stack's top frame is ${first.topFrame}`);
    }
    const perStackUs = [];
    for (let i = 0; i < requests; i++) perStackUs.push((await stackCost(host.port, stacksPerRequest, where)).perStackUs);
    return { prepareMs, rssKiB, firstStackMs: first.firstMs, perStackUs: median(perStackUs), topFrame: first.topFrame };
  } finally {
    await stopCleanly(host, where);
  }
}

/**
 * Runs both modes `runs` times, interleaved (off, on, off, on, ...). Returns per mode the medians
 * and per-run values, and the on/off ratios of the medians.
 */
export async function sourceMapsBench({ runs, stacksPerRequest, requests }) {
  // The stack-cost filter answers every request itself: the router's upstream is never reached.
  const upstreamPort = await freePort();
  const samples = Object.fromEntries(SOURCE_MAP_MODES.map((m) => [m.key, []]));
  log(`source maps: ${runs} interleaved runs per mode, ${requests} × ${stacksPerRequest} stacks each`);
  for (let i = 0; i < runs; i++) {
    for (const mode of SOURCE_MAP_MODES) samples[mode.key].push(await measureOnce(mode, upstreamPort, { stacksPerRequest, requests }));
  }
  const modes = Object.fromEntries(SOURCE_MAP_MODES.map((mode) => {
    const s = samples[mode.key];
    return [mode.key, {
      label: mode.label,
      prepare_ms: median(s.flatMap((r) => r.prepareMs)),
      prepare_ms_runs: s.map((r) => r.prepareMs),
      rss_kib: median(s.map((r) => r.rssKiB)),
      rss_kib_runs: s.map((r) => r.rssKiB),
      first_stack_ms: median(s.map((r) => r.firstStackMs)),
      first_stack_ms_runs: s.map((r) => Math.round(r.firstStackMs * 100) / 100),
      per_stack_us: median(s.map((r) => r.perStackUs)),
      per_stack_us_runs: s.map((r) => Math.round(r.perStackUs * 10) / 10),
      top_frame: s[0].topFrame,
    }];
  }));
  const ratio = (field) => modes.on[field] / modes.off[field];
  return {
    runs,
    stacks_per_request: stacksPerRequest,
    requests_per_run: requests,
    host_concurrency: 1,
    environments_per_host: 3, // main thread, the worker, the pool's spare
    modes,
    ratios_on_over_off: {
      prepare: ratio('prepare_ms'),
      rss: ratio('rss_kib'),
      first_stack: ratio('first_stack_ms'),
      per_stack: ratio('per_stack_us'),
    },
    rss_on_minus_off_kib_per_environment: (modes.on.rss_kib - modes.off.rss_kib) / 3,
  };
}

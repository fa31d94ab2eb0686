// GET /stats and the stats flush as Envoy's admin shows them (server.cc flushStats,
// thread_local_store.cc mergeHistograms, ParentHistogramImpl): counters and gauges are current at
// once, a histogram's values appear only once a stats flush merged them. The flush runs every
// stats_flush_interval or, with stats_flush_on_admin, at each GET /stats, completing after that
// request was answered. Proven with test/host/modules/http_stream_info.c, which counts requests
// by method and records each request's path length in a histogram.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { describe, test } from 'node:test';

import {
  freePort, histogramQuantiles, request, runHostToExit, startHostWithYaml, statsWhen,
  testModulesDir,
} from './helpers.mjs';
import { httpProxyYaml } from '../../support/proxy-config.mjs';
import { listenLoopback } from '../../support/servers.mjs';

const searchPath = testModulesDir;
const histogram = 'dynamicmodulescustom.path_length.kind.path';
const counter = /^dynamicmodulescustom\.requests\.method\.GET: (\d+)$/m;
const noInterval = Array(10).fill('nan').join(' ');

/**
 * envoy.yaml: the http_stream_info filter in front of `upstreamPort`; `statsFlush` is the
 * bootstrap's stats flush: { interval } (stats_flush_interval) or { onAdmin: true }.
 */
function yaml({ listenPort, adminPort, upstreamPort, statsFlush }) {
  const config = httpProxyYaml({
    listenPort, adminPort, upstreamPort, statsFlushInterval: statsFlush.interval ?? null,
    filters: [{ module: 'http_stream_info', filterName: 'stream_info', config: 'keep',
                doNotClose: false }],
  });
  return statsFlush.onAdmin ? `stats_flush_on_admin: true\n${config}` : config;
}

async function startUpstream() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  return listenLoopback(server);
}

/** The host with `statsFlush` (see yaml) in front of a new upstream; stop() stops both. */
async function start(statsFlush) {
  const upstream = await startUpstream();
  const [listenPort, adminPort] = [await freePort(), await freePort()];
  const options = { listenPort, adminPort, upstreamPort: upstream.port };
  let host;
  try {
    host = await startHostWithYaml(yaml({ ...options, statsFlush }),
                                   { listenPort, adminPort, searchPath });
  } catch (e) {
    await upstream.close();
    throw e;
  }
  host.rewrite = (next) => writeFileSync(host.configFile, yaml({ ...options, statsFlush: next }));
  const stop = host.stop;
  host.stop = async () => {
    const exited = await stop();
    await upstream.close();
    return exited;
  };
  return host;
}

/** Requests `paths` one after the other (the filter records each path's length in its hook). */
async function get(host, ...paths) {
  for (const path of paths) assert.equal((await request(host.port, { path })).status, 200);
}

async function stats(host) {
  const response = await request(host.adminPort, { path: '/stats?filter=dynamicmodulescustom' });
  assert.equal(response.status, 200);
  return response.body;
}

/** What /stats shows: the GET counter and the histogram's quantiles (null: no recorded values). */
async function shown(host) {
  const body = await stats(host);
  return { gets: Number(counter.exec(body)?.[1]), histogram: histogramQuantiles(body, histogram) };
}

describe('GET /stats and the stats flush', () => {
  test('stats_flush_interval: a histogram waits for the next flush, counters do not; GET /stats ' +
       'does not flush', async () => {
    const host = await start({ interval: '120s' }); // No flush happens during the test.
    try {
      await get(host, '/abc', '/abcdef');
      for (let i = 0; i < 3; ++i) {
        assert.deepEqual(await shown(host), { gets: 2, histogram: null });
      }
      assert.match(await stats(host), /^dynamicmodulescustom\.path_length\.kind\.path: No recorded values$/m);
    } finally {
      await host.stop();
    }
  });

  test('a flush merges what was recorded since the last one: interval and cumulative ' +
       'quantiles; a flush with nothing new has no interval figures', async () => {
    const host = await start({ interval: '0.05s' });
    try {
      await get(host, '/abc', '/abcdef');
      // Once both are merged, a later flush finds nothing new.
      await statsWhen(host.adminPort, (body) => {
        const figures = histogramQuantiles(body, histogram);
        return figures?.cumulative === '4 4 4 7 7 7 7 7 7 7' && figures.interval === noInterval;
      });
      await get(host, '/p');
      const body = await statsWhen(host.adminPort, (text) =>
        histogramQuantiles(text, histogram)?.cumulative === '2 2 4 7 7 7 7 7 7 7');
      // The flush that merged /p alone, or a later one that merged nothing.
      assert.ok(['2 2 2 2 2 2 2 2 2 2', noInterval].includes(histogramQuantiles(body, histogram).interval), body);
    } finally {
      await host.stop();
    }
  });

  test('stats_flush_on_admin: each GET /stats flushes, and shows what the previous flush merged',
       async () => {
    const host = await start({ onAdmin: true });
    try {
      await get(host, '/abc', '/abcdef');
      // This request starts the first flush; its answer was rendered before the flush completed.
      assert.deepEqual(await shown(host), { gets: 2, histogram: null });
      assert.deepEqual(await shown(host), {
        gets: 2, histogram: { interval: '4 4 4 7 7 7 7 7 7 7', cumulative: '4 4 4 7 7 7 7 7 7 7' },
      });
      assert.deepEqual(await shown(host), {
        gets: 2, histogram: { interval: noInterval, cumulative: '4 4 4 7 7 7 7 7 7 7' },
      });
      await get(host, '/p');
      assert.deepEqual(await shown(host), {
        gets: 3, histogram: { interval: noInterval, cumulative: '4 4 4 7 7 7 7 7 7 7' },
      });
      assert.deepEqual(await shown(host), {
        gets: 3, histogram: { interval: '2 2 2 2 2 2 2 2 2 2', cumulative: '2 2 4 7 7 7 7 7 7 7' },
      });
    } finally {
      await host.stop();
    }
  });

  test('the flush fields are checked like Envoy\'s bootstrap; a reload cannot change them',
       async () => {
    const options = { listenPort: await freePort(), adminPort: await freePort(), upstreamPort: 1 };
    const refused = async (text, message) => {
      const { code, output } = await runHostToExit(text, { searchPath });
      assert.equal(code, 1, output);
      assert.match(output, message);
    };
    for (const interval of ['0s', '0.0005s', '300s']) {
      await refused(yaml({ ...options, statsFlush: { interval } }),
                    /error initializing configuration '.*': stats_flush_interval: value must be inside range \[1ms, 300s\)/);
    }
    await refused(yaml({ ...options, statsFlush: { interval: null } })
      .replace(/^/, 'stats_flush_on_admin: false\n'),
                  /stats_flush_on_admin: value must equal true/);
    await refused(yaml({ ...options, statsFlush: { interval: '1s', onAdmin: true } }),
                  /Only one of stats_flush_interval or stats_flush_on_admin should be set!/);

    const host = await start({ interval: '1s' });
    try {
      host.rewrite({ interval: '2s' });
      let answer = await request(host.adminPort, { method: 'POST', path: '/reload' });
      assert.equal(answer.status, 400);
      assert.match(answer.body, /^stats_flush_interval \/ stats_flush_on_admin: changed, and a reload applies listener changes only/);
      host.rewrite({ interval: '1.0s' }); // The same interval.
      answer = await request(host.adminPort, { method: 'POST', path: '/reload' });
      assert.equal(answer.status, 200, answer.body);
    } finally {
      await host.stop();
    }
  });
});

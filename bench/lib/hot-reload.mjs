// What a hot reload costs ("watch": true, the examples bundle rewritten with a new build comment
// each time): the time from the file's change to each worker serving the new version, what loading
// it costs the first stream on each worker, and the latency of requests under load while the
// bundle is reloaded every half second, against the same load with no reload, in the same run.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { httpProxyYaml } from '../../test/support/proxy-config.mjs';
import { get, launchHost, parseWrk, startUpstream, stopCleanly } from './http.mjs';
import { BenchFailure, examplesBundle, log, median, run, sleep } from './util.mjs';

const CONCURRENCY = 2;

function hostFor(bundle, upstreamPort, logLevel) {
  const filters = [{ module: 'envoy_ts', filterName: 'chain',
    config: JSON.stringify({ bundle, watch: true, chain: [{ name: 'request-id' }] }) }];
  return launchHost('hot reload', ({ listenPort, adminPort }) =>
    httpProxyYaml({ listenPort, adminPort, upstreamPort, filters }), CONCURRENCY, { logLevel });
}

/** A new version of the bundle: the same code, another build comment (another content hash). */
function writeVersion(bundle, source, n) {
  writeFileSync(bundle, `${source}\n// build ${n}\n`);
}

// Log timestamps ("[2026-12-05 01:07:52.062]") are the host's wall clock (UTC), as Date.now() here.
const logTime = (stamp) => Date.parse(`${stamp.replace(' ', 'T')}Z`);

/** Reload timing: for each reload, file written → each worker's first stream on the new version. */
async function reloadTimes(upstreamPort, reloads) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-bench-reload-'));
  const bundle = path.join(dir, 'filters.js');
  copyFileSync(examplesBundle, bundle);
  const source = readFileSync(examplesBundle, 'utf8');
  const host = await hostFor(bundle, upstreamPort, 'debug');
  const rounds = [];
  try {
    // Every worker takes its environment (first stream) before the first reload.
    for (let i = 0; i < 20; i++) await get(host.port, '/warm');
    for (let n = 1; n <= reloads; n++) {
      const before = host.output.length;
      const written = Date.now();
      writeVersion(bundle, source, n);
      const revisionLine = new RegExp(`\\[([\\d-]+ [\\d:.]+)\\]\\[(\\d+)\\]\\[debug\\]\\[dynamic_modules\\] \\[envoy-ts\\] loaded filter config \\d+ \\(bundle [^)]*\\) revision ${n} in (\\d+) us`, 'g');
      const workers = new Map();
      const deadline = Date.now() + 10000;
      // New connections until both workers served a stream of the new revision.
      while (workers.size < CONCURRENCY) {
        if (Date.now() > deadline) throw new BenchFailure(`reload ${n}: not every worker loaded it:\n${host.output.slice(before)}`);
        const response = await get(host.port, '/reload-probe');
        if (response.status !== 200) throw new BenchFailure(`reload ${n}: probe answered ${response.status}`);
        // Prepared environments other than the spare load the new revision on the watcher's
        // thread: only the workers' lines count.
        const watcher = /\]\[(\d+)\]\[info\]\[dynamic_modules\] \[envoy-ts\] watch: reloaded/.exec(host.output.slice(before))?.[1];
        for (const m of host.output.slice(before).matchAll(revisionLine)) {
          const [, stamp, thread, us] = m;
          if (thread !== watcher && !workers.has(thread)) workers.set(thread, { at: logTime(stamp), loadMs: Number(us) / 1000 });
        }
        if (workers.size < CONCURRENCY) await sleep(2);
      }
      const validated = new RegExp(`watch: reloaded .* revision ${n}, validated in (\\d+) ms`).exec(host.output.slice(before));
      rounds.push({
        validateMs: validated ? Number(validated[1]) : NaN,
        workers: [...workers.values()].map((w) => ({ servedAfterMs: w.at + w.loadMs - written, loadMs: w.loadMs })),
      });
    }
  } finally {
    await stopCleanly(host, 'hot reload (timing)');
  }
  return rounds;
}

/** wrk against the host for `seconds`, while `during` runs; the parsed result. */
async function wrkWhile(port, seconds, during) {
  const wrk = run('wrk', ['-t1', '-c16', `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/bench`],
                  { timeoutMs: (seconds + 30) * 1000 });
  await during();
  const { stdout, stderr, code } = await wrk;
  if (code !== 0) throw new BenchFailure(`wrk exited ${code}: ${stderr}${stdout}`);
  const result = parseWrk(stdout);
  if (/Non-2xx or 3xx responses|Socket errors/.test(stdout)) throw new BenchFailure(`wrk saw failures:\n${stdout}`);
  return result;
}

/** p99 under load with a reload every `everyMs`, against the same load without reloads. */
async function latencyBlip(upstreamPort, { seconds, everyMs, runs }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-bench-blip-'));
  const bundle = path.join(dir, 'filters.js');
  const source = readFileSync(examplesBundle, 'utf8');
  writeVersion(bundle, source, 0);
  const host = await hostFor(bundle, upstreamPort, 'info');
  const steady = [];
  const reloading = [];
  let n = 0;
  try {
    await wrkWhile(host.port, 2, async () => {});  // warm-up
    for (let r = 0; r < runs; r++) {
      steady.push(await wrkWhile(host.port, seconds, async () => {}));
      reloading.push(await wrkWhile(host.port, seconds, async () => {
        const end = Date.now() + seconds * 1000 - everyMs;
        while (Date.now() < end) {
          await sleep(everyMs);
          writeVersion(bundle, source, ++n);
        }
      }));
    }
    const reloaded = host.output.match(/watch: reloaded /g)?.length ?? 0;
    if (reloaded === 0) throw new BenchFailure('no reload happened during the load');
    return { steady, reloading, reloads: n };
  } finally {
    await stopCleanly(host, 'hot reload (latency)');
  }
}

export async function hotReloadBench({ reloads, seconds, everyMs, runs }) {
  const upstream = await startUpstream();
  try {
    log('hot reload: timing');
    const rounds = await reloadTimes(upstream.port, reloads);
    log('hot reload: latency under load, with and without reloads');
    const blip = await latencyBlip(upstream.port, { seconds, everyMs, runs });
    const served = rounds.flatMap((r) => r.workers.map((w) => w.servedAfterMs));
    const loads = rounds.flatMap((r) => r.workers.map((w) => w.loadMs));
    const p99 = (results) => median(results.map((r) => r.p99_ms));
    const p50 = (results) => median(results.map((r) => r.p50_ms));
    const rps = (results) => median(results.map((r) => r.rps));
    return {
      bundle_bytes: readFileSync(examplesBundle).length,
      reloads,
      validate_ms_median: median(rounds.map((r) => r.validateMs)),
      served_after_ms_median: median(served),
      served_after_ms_max: Math.max(...served),
      worker_load_ms_median: median(loads),
      worker_load_ms_max: Math.max(...loads),
      steady: { p50_ms: p50(blip.steady), p99_ms: p99(blip.steady), rps: rps(blip.steady) },
      reloading: { p50_ms: p50(blip.reloading), p99_ms: p99(blip.reloading), rps: rps(blip.reloading),
                   reloads: blip.reloads },
      p99_ratio: p99(blip.reloading) / p99(blip.steady),
    };
  } finally {
    await upstream.stop();
  }
}

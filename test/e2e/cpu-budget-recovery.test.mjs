// Recovering from a stopped hook in a bundle with a large source map. The recovery maps the
// stopped JavaScript's stack through the bundle's source map, and decoding a map takes CPU time
// that grows with its size (tens of milliseconds per MB on Node 18, which decodes it again for
// every lookup): far more here than the filter's budget. The recovery must still complete,
// answer the stream with its failure policy and log the TypeScript position of the loop.
// The bundle is built here with esbuild: the `spin` filter of test/e2e/fixtures/runaway-filters.ts
// beside a few MB of generated TypeScript, with its source map beside it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import esbuild from 'esbuild';

import { echoOf, proxyForSuite, proxyName, request, root } from './harness.mjs';

const BUDGET_MS = 20;
const PADDING_FUNCTIONS = 40_000;
const MIN_MAP_BYTES = 4 * 1024 * 1024;

const runawayFilters = path.join(root, 'test/e2e/fixtures/runaway-filters.ts');
// Where spinForever loops: the line the stopped stack must name.
const loopLine = readFileSync(runawayFilters, 'utf8').split('\n').findIndex((line) => line.includes('for (;;)')) + 1;

const dir = mkdtempSync(path.join(tmpdir(), 'envoy-ts-large-map-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Functions the bundle keeps (the entry reads them at its top level), each a few mappings. */
function paddingSource(count) {
  const lines = ['export const padding: ((value: number) => number)[] = [];'];
  for (let i = 0; i < count; i++) {
    lines.push(`padding.push((value: number): number => { const scaled = value * ${i}; return scaled + ${i % 7}; });`);
  }
  return `${lines.join('\n')}\n`;
}

writeFileSync(path.join(dir, 'padding.ts'), paddingSource(PADDING_FUNCTIONS));
writeFileSync(path.join(dir, 'index.ts'), [
  `export { spin } from ${JSON.stringify(runawayFilters)};`,
  "import { padding } from './padding';",
  "if (padding.length === 0) throw new Error('the padding was dropped');",
  '',
].join('\n'));
const bundle = path.join(dir, 'filters.js');
await esbuild.build({
  entryPoints: [path.join(dir, 'index.ts')], outfile: bundle, sourcemap: true,
  bundle: true, platform: 'node', target: 'node18', format: 'cjs', logLevel: 'warning',
  tsconfig: path.join(root, 'tsconfig.json'), absWorkingDir: root,
});

describe(`CPU budget through ${proxyName}: a loop in a bundle with a large source map`, () => {
  const suite = proxyForSuite({
    filterConfigs: [{ bundle, chain: [{ name: 'spin' }], cpuBudgetMs: BUDGET_MS }],
    concurrency: 1,
  });

  test('the bundle has the large source map this is about', () => {
    const mapBytes = statSync(`${bundle}.map`).size;
    assert.ok(mapBytes >= MIN_MAP_BYTES, `source map of ${mapBytes} bytes`);
  });

  test('each stopped request gets the policy answer, logged with the loop\'s TypeScript position', async () => {
    // The first overrun of the environment, then later ones (each maps the stack again).
    for (let i = 0; i < 3; i++) {
      const response = await request(suite.proxy.port, { path: '/spin' });
      assert.equal(response.status, 500, `request ${i}`);
      assert.equal(response.body, 'internal error');
    }
    const reports = suite.proxy.output.match(
      /filter=spin\] onRequestHeaders was stopped: CpuBudgetError \[ETS_ERR_CPU_BUDGET\]: onRequestHeaders ran past its CPU budget of 20 ms and was stopped\n\s+at spinForever \([^)\n]*\)/g) ?? [];
    assert.equal(reports.length, 3, suite.proxy.output);
    for (const report of reports) {
      assert.ok(report.includes(`(${runawayFilters}:${loopLine}:`), `the loop's TypeScript file and line: ${report}`);
    }
    assert.doesNotMatch(suite.proxy.output, /could not recover/);
    assert.equal(await suite.proxy.stat('envoy_ts.cpu_budget_exceeded.filter.spin'), 3);
    assert.equal(suite.upstream.seen.some((seen) => seen.path === '/spin'), false, 'nothing went upstream');
  });

  test('the worker goes on serving', async () => {
    const response = await request(suite.proxy.port, { path: '/after' });
    assert.equal(response.status, 200);
    assert.equal(echoOf(response).path, '/after');
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createTestChain, type TestChainOptions } from '../index';
import * as filters from './fixture-filters';

async function withChain<T>(options: Omit<TestChainOptions, 'filters'>, run: (chain: Awaited<ReturnType<typeof createTestChain>>) => Promise<T>): Promise<T> {
  const chain = await createTestChain({ filters, ...options });
  try {
    return await run(chain);
  } finally {
    await chain.close();
  }
}

describe('createTestChain (in process)', () => {
  test('the upstream gets what the chain let through; the echo upstream answers by default', () =>
    withChain({ chain: [{ name: 'behaviours', config: { tag: 't1' } }] }, async (chain) => {
      const res = await chain.request({ method: 'POST', path: '/x', headers: { host: 'example' }, body: 'hi' });
      assert.equal(res.status, 200);
      assert.equal(res.localReply, false);
      assert.equal(res.upstreamRequest?.headers.get('x-tag'), 't1');
      assert.deepEqual(res.json(), { method: 'POST', path: '/x', body: 'hi',
                                     headers: { host: 'example', 'x-tag': 't1' } });
    }));

  test('a returned Response is a local reply with its status and headers; response hooks still run', () =>
    withChain({ chain: [{ name: 'behaviours' }] }, async (chain) => {
      const res = await chain.request({ path: '/teapot' });
      assert.equal(res.status, 418);
      assert.equal(res.localReply, true);
      assert.equal(res.upstreamRequest, null);
      assert.equal(res.headers.get('x-pot'), 'yes');
      assert.equal(res.headers.get('content-length'), '15');
      assert.equal(res.text(), 'short and stout');
    }));

  test('failure policy: closed answers 500, open goes on as if the filter had returned', async () => {
    for (const path of ['/throw', '/reject']) {
      await withChain({ chain: [{ name: 'behaviours' }] }, async (chain) => {
        const res = await chain.request({ path });
        assert.equal(res.status, 500, path);
        assert.equal(res.text(), 'internal error');
        assert.equal(res.details, 'envoy_ts_filter_failed');
        assert.equal(chain.metrics.get('envoy_ts.filter_failures', { filter: 'behaviours' }), 1);
        assert.ok(chain.logs.some((l) => l.level === 'error' && /boom/.test(l.message)), path);
      });
      await withChain({ chain: [{ name: 'behaviours' }], failurePolicy: 'open' }, async (chain) => {
        const res = await chain.request({ path });
        assert.equal(res.status, 200, path);
        assert.equal(res.upstreamRequest?.path, path);
      });
    }
  });

  test('config: schema defaults fill in, errors name the field; bad options are named', async () => {
    await withChain({ chain: [{ name: 'behaviours' }] }, async (chain) => {
      assert.equal((await chain.request()).upstreamRequest?.headers.get('x-tag'), 'default-tag');
    });
    await assert.rejects(createTestChain({ filters, chain: [{ name: 'behaviours', config: { tag: 3 } }] }),
                         /filter 'behaviours': config\.tag must be string/);
    await assert.rejects(createTestChain({ filters, chain: [{ name: 'nope' }] }), /filter 'nope' is not exported/);
    await assert.rejects(createTestChain({ filters, chain: [] }), /chain must be a non-empty list/);
    await assert.rejects(createTestChain({ chain: [{ name: 'behaviours' }] }), /give the filters/);
    await assert.rejects(createTestChain({ filters, chain: [{ name: 'behaviours' }], upstrem: 1 } as never),
                         /unknown option\(s\) upstrem/);
    await assert.rejects(createTestChain({ filters, chain: [{ name: 'behaviours' }], engine: 'envoy' as never }),
                         /engine must be 'in-process' or 'host'/);
  });

  test('metrics by name and labels; histograms by samples; undeclared names are an error', () =>
    withChain({ chain: [{ name: 'behaviours' }, { name: 'shout' }] }, async (chain) => {
      await chain.request({ method: 'GET' });
      await chain.request({ method: 'POST', body: ['ab', 'cde'] });
      await chain.request({ method: 'POST' });
      assert.equal(chain.metrics.get('behaviours.seen', { method: 'GET' }), 1);
      assert.equal(chain.metrics.get('behaviours.seen', { method: 'POST' }), 2);
      assert.deepEqual(chain.metrics.samples('shout.chunk'), [2, 3]);
      assert.equal(chain.metrics.get('envoy_ts.behaviours.hook_invocations'), 3);
      assert.throws(() => chain.metrics.get('behaviours.seen'), /has labels \[method\]/);
      assert.throws(() => chain.metrics.get('behaviours.nope'), /declares no metric 'behaviours.nope'/);
    }));

  test('logs are captured as Envoy would write them, from the chosen level up', async () => {
    await withChain({ chain: [{ name: 'behaviours' }] }, async (chain) => {
      await chain.request({ path: '/logged' });
      assert.ok(chain.logs.some((l) => l.level === 'info' && l.message.endsWith('saw /logged')), JSON.stringify(chain.logs));
    });
    await withChain({ chain: [{ name: 'behaviours' }], logLevel: 'warn' }, async (chain) => {
      await chain.request({ path: '/logged' });
      assert.deepEqual(chain.logs, []);
    });
  });

  test('bodies stream chunk by chunk through body hooks', () =>
    withChain({ chain: [{ name: 'shout' }] }, async (chain) => {
      const res = await chain.request({ method: 'POST', body: ['abc', Buffer.from('déf')] });
      assert.equal(res.upstreamRequest?.text(), 'ABCDÉF');
      assert.deepEqual(res.upstreamRequest?.bodyPieces.map((p) => Buffer.from(p).toString()), ['ABC', 'DÉF']);
    }));

  test('a whole-body read buffers the request; past the buffer limit Envoy answers 413', () =>
    withChain({ chain: [{ name: 'measure' }], bufferLimitBytes: 8 }, async (chain) => {
      assert.equal((await chain.request({ method: 'POST', body: ['1234', '5678'] })).text(), 'length 8');
      const over = await chain.request({ method: 'POST', body: ['1234', '56789'] });
      assert.equal(over.status, 413);
      assert.equal(over.details, 'request_payload_too_large');
    }));

  test('per-route configs by path prefix: the longest prefix wins; a filter can be disabled', () =>
    withChain({ chain: [{ name: 'behaviours', config: { tag: 'chain' } }],
                routes: { '/a': { behaviours: { config: { tag: 'route-a' } } },
                          '/a/b': { behaviours: { disabled: true } } } }, async (chain) => {
      const tag = async (path: string): Promise<string | null | undefined> =>
        (await chain.request({ path })).upstreamRequest?.headers.get('x-tag');
      assert.equal(await tag('/x'), 'chain');
      assert.equal(await tag('/a/x'), 'route-a');
      assert.equal(await tag('/a/b/x'), null);
    }));

  test('a per-route config is checked like the chain\'s', async () => {
    await assert.rejects(createTestChain({ filters, chain: [{ name: 'behaviours' }],
                                           routes: { '/a': { behaviours: { config: { tag: 1 } } } } }),
                         /per-route config of '\/a' was rejected: .*config\.tag must be string/);
  });

  test('ctx.fetch is answered by the cluster handler; an unknown cluster fails like Envoy', () =>
    withChain({ chain: [{ name: 'ask-authz' }], failurePolicy: 'open',
                clusters: { authz: (req) => ({ status: 202, body: `checked ${req.method} ${req.path} ${req.text()}` }) } },
              async (chain) => {
      const res = await chain.request({ path: '/orders' });
      assert.equal(res.upstreamRequest?.headers.get('x-authz'), '202 checked POST /check /orders');
      const unknown = await chain.request({ headers: { 'x-cluster': 'nowhere' } });
      assert.equal(unknown.upstreamRequest?.headers.get('x-authz'), null);
      assert.ok(chain.logs.some((l) => /fetch to cluster 'nowhere' could not start: no such cluster/.test(l.message)));
    }));

  test('the upstream handler answers with status, headers, chunks and trailers', () =>
    withChain({ chain: [{ name: 'behaviours' }],
                upstream: () => ({ status: 404, headers: { 'x-up': '1' }, body: ['a', 'b'], trailers: { 'x-t': 'z' } }) },
              async (chain) => {
      const res = await chain.request();
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('x-up'), '1');
      assert.equal(res.text(), 'ab');
      assert.equal(res.trailers.get('x-t'), 'z');
    }));
});

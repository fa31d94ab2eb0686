// The host's admin endpoint beyond /ready and /stats: /memory (Envoy's allocator figures), and
// what an unknown path gets.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { request, startHost, startUpstream } from './helpers.mjs';

describe('admin endpoint', () => {
  let upstream;
  let host;

  before(async () => {
    upstream = await startUpstream();
    host = await startHost({ upstreamPort: upstream.port, filters: [] });
  });

  after(async () => {
    await host?.stop();
    await upstream?.close();
  });

  test('GET /memory: Envoy\'s fields as decimal strings; what is in use fits in what was obtained', async () => {
    const response = await request(host.adminPort, { path: '/memory' });
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'application/json');
    const memory = JSON.parse(response.body);
    assert.deepEqual(Object.keys(memory).sort(),
                     ['allocated', 'heap_size', 'pageheap_free', 'pageheap_unmapped', 'total_physical_bytes',
                      'total_thread_cache']);
    for (const value of Object.values(memory)) assert.match(value, /^\d+$/);
    const allocated = Number(memory.allocated);
    assert.ok(allocated > 0, 'the host has allocated memory');
    assert.ok(Number(memory.heap_size) >= allocated + Number(memory.pageheap_free));
  });

  test('allocated: what requests took is given back once they are done', async () => {
    const allocated = async () => Number(JSON.parse((await request(host.adminPort, { path: '/memory' })).body).allocated);
    const before = await allocated();
    // 128 requests in flight at once, each with 8 KiB of headers the host holds while it proxies it.
    const big = { 'x-big': 'x'.repeat(8 * 1024) };
    const responses = await Promise.all(Array.from({ length: 128 }, (_, i) =>
      request(host.port, { path: `/p${i}`, headers: big })));
    for (const response of responses) assert.equal(response.status, 200);
    assert.ok(await allocated() < before + 512 * 1024, 'the requests\' memory was freed');
  });

  test('an unknown path gets 404 listing the commands', async () => {
    const response = await request(host.adminPort, { path: '/nope' });
    assert.equal(response.status, 404);
    assert.match(response.body, /\/ready, \/server_info, \/stats, \/memory, \/reload, \/quitquitquit/);
  });
});

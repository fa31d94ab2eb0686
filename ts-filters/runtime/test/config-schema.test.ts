import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { defineHttpFilter } from '../../api/http-filter';
import { defineNetworkFilter } from '../../api/network-filter';
import { HookKind, HookOutcome } from '../codes';
import { setup, withChain } from './fake-binding';

interface UpstreamConfig {
  readonly cluster: string;
  readonly timeoutMs: number;
  readonly routes: readonly { readonly prefix: string; readonly weight: number }[];
}

const upstreamSchema = {
  type: 'object',
  properties: {
    cluster: { type: 'string', minLength: 1 },
    timeoutMs: { type: 'integer', minimum: 1, default: 250 },
    routes: {
      type: 'array',
      items: {
        type: 'object',
        properties: { prefix: { type: 'string', pattern: '^/' }, weight: { type: 'integer', default: 1 } },
        required: ['prefix'],
        additionalProperties: false,
      },
      default: [],
    },
    url: { type: 'string', format: 'uri' },
    'odd/key': { type: 'boolean' },
  },
  required: ['cluster'],
  additionalProperties: false,
};

function chainOf(seen: UpstreamConfig[], schema: object = upstreamSchema) {
  return [defineHttpFilter<UpstreamConfig>({
    name: 'up',
    configSchema: schema,
    onRequestHeaders(_headers, ctx) { seen.push(ctx.config); },
  })];
}

function rejection(config: unknown, schema?: object): string {
  const { runtime } = setup({ loadBundle: () => chainOf([], schema) });
  return runtime.loadConfig(1, JSON.stringify({ bundle: '/fake/bundle.js', chain: [{ name: 'up', config }] }),
                            0) ?? 'accepted';
}

describe('configSchema', () => {
  test('a valid config reaches the filter with the schema defaults filled in', () => {
    const seen: UpstreamConfig[] = [];
    const { binding } = withChain(chainOf(seen), [{ name: 'up', config: { cluster: 'auth', routes: [{ prefix: '/a' }] } }]);
    binding.hook(binding.openStream(1), HookKind.RequestHeaders);
    assert.deepEqual(seen, [{ cluster: 'auth', timeoutMs: 250, routes: [{ prefix: '/a', weight: 1 }] }]);
  });

  test('every offending field is named by its path', () => {
    assert.equal(rejection({ timeoutMs: 0.5, routes: [{ prefix: 'a' }, { weight: 2, extra: 1 }] }),
                 "filter 'up': config.cluster is required; config.timeoutMs must be integer; config.timeoutMs must be >= 1; " +
                 'config.routes[0].prefix must match pattern "^/"; config.routes[1].prefix is required; ' +
                 'config.routes[1].extra is not a known field');
    assert.equal(rejection({ cluster: 'c', url: 'not a uri' }), `filter 'up': config.url must match format "uri"`);
    assert.equal(rejection({ cluster: 'c', 'odd/key': 'yes' }), `filter 'up': config.odd/key must be boolean`);
    assert.equal(rejection([1]), `filter 'up': config must be object`);
  });

  test('an absent config of an object schema is {}: required fields are named, defaults fill in', () => {
    assert.equal(rejection(undefined), "filter 'up': config.cluster is required");
    const seen: UpstreamConfig[] = [];
    const { binding } = withChain(chainOf(seen, { type: 'object', properties: { timeoutMs: { type: 'integer', default: 5 } } }),
                                  [{ name: 'up' }]);
    binding.hook(binding.openStream(1), HookKind.RequestHeaders);
    assert.deepEqual(seen, [{ timeoutMs: 5 }]);
  });

  test('an invalid schema rejects the config, naming the filter', () => {
    assert.match(rejection({}, { type: 'object', properties: { n: { type: 'nmber' } } }),
                 /^filter 'up' declares an invalid configSchema: .*type/);
    assert.match(rejection({}, { type: 'object', minProperty: 1 }),
                 /^filter 'up' declares an invalid configSchema: .*minProperty/);
  });

  test('parseConfig receives the checked value with defaults', () => {
    const { runtime } = setup({
      loadBundle: () => [defineHttpFilter({
        name: 'p',
        configSchema: { type: 'object', properties: { n: { type: 'integer', default: 3 } } },
        parseConfig(raw) {
          const { n } = raw as { n: number };
          if (n > 10) throw new RangeError('n is too large for this deployment');
          return { twice: n * 2 };
        },
      })],
    });
    const load = (config: unknown) =>
      runtime.loadConfig(1, JSON.stringify({ bundle: '/b.js', chain: [{ name: 'p', config }] }), 0);
    assert.equal(load(undefined), undefined);
    assert.equal(load({ n: 'x' }), "filter 'p': config.n must be integer");
    assert.equal(load({ n: 11 }), "filter 'p': n is too large for this deployment");
  });

  test('per-route configs are checked against the same schema', () => {
    const seen: UpstreamConfig[] = [];
    const { binding, runtime } = withChain(chainOf(seen), [{ name: 'up', config: { cluster: 'main' } }]);
    const route = (config: unknown) =>
      runtime.loadConfig(5, JSON.stringify({ bundle: '/fake/bundle.js', filters: { up: { config } } }), 2);
    assert.equal(route({ cluster: 'main', timeoutMs: -1 }), "filter 'up': config.timeoutMs must be >= 1");
    assert.equal(route({ cluster: 'edge' }), undefined);
    assert.equal(binding.hook(binding.openStream(1), HookKind.RequestHeaders, true, 5), HookOutcome.Continue);
    assert.deepEqual(seen, [{ cluster: 'edge', timeoutMs: 250, routes: [] }]);
  });

  test('network filters take a schema too', () => {
    const { runtime } = setup({
      loadBundle: () => [defineNetworkFilter({
        name: 'n', configSchema: { type: 'object', properties: { max: { type: 'integer' } }, required: ['max'] },
      })],
    });
    assert.equal(runtime.loadConfig(1, JSON.stringify({ bundle: '/b.js', chain: [{ name: 'n', config: {} }] }), 1),
                 "filter 'n': config.max is required");
  });

  test('defineHttpFilter refuses a schema that is not an object', () => {
    assert.throws(() => defineHttpFilter({ name: 'x', configSchema: 'object' as unknown as object }),
                  /`configSchema` must be a JSON Schema object/);
  });
});

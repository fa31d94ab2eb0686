// ctx.config and parseConfig's raw, inferred from a literal configSchema; parseConfig's return
// type winning; explicit type arguments.

import { defineHttpFilter, defineNetworkFilter, type ConfigFromSchema, type HttpFilter } from 'envoy-ts';

import { expectType } from './expect';

// Required, optional, defaulted, enum, nested object, array; no additionalProperties: false, so
// other keys may be there (an index signature of unknown).
defineHttpFilter({
  name: 'open-object',
  configSchema: {
    type: 'object',
    properties: {
      upstream: { type: 'string' },
      retries: { type: 'integer', default: 2 },
      timeoutMs: { type: 'number' },
      mode: { enum: ['allow', 'deny'] },
      tls: {
        type: 'object',
        properties: { sni: { type: 'string' }, verify: { type: 'boolean', default: true } },
        required: ['sni'],
        additionalProperties: false,
      },
      paths: { type: 'array', items: { type: 'string' } },
    },
    required: ['upstream', 'mode'],
  },
  onRequestHeaders(_headers, ctx) {
    expectType<typeof ctx.config.upstream, string>();
    expectType<typeof ctx.config.retries, number>();  // defaulted: always there
    expectType<typeof ctx.config.timeoutMs, number | undefined>();
    expectType<typeof ctx.config.mode, 'allow' | 'deny'>();
    expectType<typeof ctx.config.tls, { sni: string; verify: boolean } | undefined>();
    expectType<typeof ctx.config.paths, string[] | undefined>();
    expectType<typeof ctx.config['anything-else'], unknown>();
    // @ts-expect-error: 'allow' | 'deny' never equals 'block'
    if (ctx.config.mode === 'block') return;
    // @ts-expect-error: optional, may be undefined
    const timeout: number = ctx.config.timeoutMs;
    void timeout;
  },
});

// A schema declared apart `as const`, with additionalProperties: false: exactly these keys.
const closedSchema = {
  type: 'object',
  properties: {
    header: { type: 'string', default: 'x-api-key' },
    keys: { type: 'array', items: { type: 'string' }, minItems: 1 },
    limits: {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string' }, rps: { type: 'number' } },
        required: ['path', 'rps'],
        additionalProperties: false,
      },
    },
  },
  required: ['keys'],
  additionalProperties: false,
} as const;

type ClosedConfig = {
  header: string;
  keys: string[];
  limits?: { path: string; rps: number }[];
};
expectType<ConfigFromSchema<typeof closedSchema>, ClosedConfig>();

export const closed = defineHttpFilter({
  name: 'closed-object',
  configSchema: closedSchema,
  onRequestHeaders(headers, ctx) {
    expectType<typeof ctx.config, ClosedConfig>();
    // @ts-expect-error: not a property of the schema
    void ctx.config.keyHeader;
    return ctx.config.keys.includes(headers.get(ctx.config.header) ?? '') ? undefined : new Response(null, { status: 403 });
  },
});
expectType<typeof closed, HttpFilter<ClosedConfig>>();

// parseConfig's return type wins; raw is what the schema describes.
const parsed = defineHttpFilter({
  name: 'parsed',
  configSchema: closedSchema,
  parseConfig(raw) {
    expectType<typeof raw, ClosedConfig>();
    // @ts-expect-error: raw has no such property
    void raw.rps;
    return { header: raw.header, keys: new Set(raw.keys) };
  },
  metrics: (config) => {
    expectType<typeof config, { header: string; keys: Set<string> }>();
    return {};
  },
  onRequestHeaders(_headers, ctx) {
    expectType<typeof ctx.config, { header: string; keys: Set<string> }>();
  },
});
expectType<typeof parsed, HttpFilter<{ header: string; keys: Set<string> }, {}>>();

// Without a schema, parseConfig's raw is unknown; without either, the config is undefined.
defineHttpFilter({
  name: 'no-schema',
  parseConfig: (raw) => {
    expectType<typeof raw, unknown>();
    return Number(raw);
  },
  onRequestHeaders(_headers, ctx) {
    expectType<typeof ctx.config, number>();
  },
});
defineHttpFilter({
  name: 'no-config',
  onRequestHeaders(_headers, ctx) {
    expectType<typeof ctx.config, undefined>();
  },
});

// A schema whose literal type is lost (typed `object`) types nothing: parseConfig's raw is unknown.
const looseSchema: object = { type: 'object' };
defineHttpFilter({
  name: 'loose-schema',
  configSchema: looseSchema,
  parseConfig: (raw) => {
    expectType<typeof raw, unknown>();
    return 'parsed' as const;
  },
  onRequestHeaders(_headers, ctx) {
    expectType<typeof ctx.config, 'parsed'>();
  },
});

// Explicit type arguments and annotations keep working, and set the config type.
interface BackendConfig {
  readonly backend: string;
}
export const explicit: HttpFilter<BackendConfig> = defineHttpFilter<BackendConfig>({
  name: 'explicit',
  configSchema: { type: 'object', properties: { backend: { type: 'string' } }, required: ['backend'] },
  onRequestHeaders(_headers, ctx) {
    expectType<typeof ctx.config, BackendConfig>();
  },
});
defineHttpFilter<BackendConfig>({
  name: 'explicit-parse',
  // @ts-expect-error: parseConfig must return the explicit config type
  parseConfig: () => ({ backend: 1 }),
});
// @ts-expect-error: a filter is not assignable to one of another config type
export const mismatched: HttpFilter<BackendConfig> = defineHttpFilter({ name: 'mismatched', parseConfig: () => 1 });

// Network filters: the same inference.
defineNetworkFilter({
  name: 'net-schema',
  configSchema: {
    type: 'object',
    properties: { maxPerIp: { type: 'integer', minimum: 1 }, message: { type: 'string', default: '' } },
    required: ['maxPerIp'],
    additionalProperties: false,
  },
  onNewConnection(ctx) {
    expectType<typeof ctx.config, { maxPerIp: number; message: string }>();
  },
});
defineNetworkFilter({
  name: 'net-parsed',
  configSchema: { type: 'object', properties: { scope: { type: 'string', default: 'default' } } },
  parseConfig: (raw) => `conn-limit/${raw.scope}/`,
  onClose(_event, ctx) {
    expectType<typeof ctx.config, string>();
  },
});

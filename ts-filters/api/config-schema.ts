// The config type a filter's JSON Schema describes: what `ctx.config` (and `parseConfig`'s `raw`)
// is when the schema is written as a literal. Types only: json-schema-to-ts is never loaded at run
// time.

import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/**
 * The config a JSON Schema describes, as a filter receives it after the schema check: properties
 * with a `default` are always present (the runtime fills them in before the filter sees the config).
 * `unknown` when the schema's literal type is not known to the compiler (typed `object`, or a
 * variable declared without `as const`) or is not a schema json-schema-to-ts reads (draft-07
 * keywords; 2020-12 ones such as `prefixItems` or `$defs` are not understood).
 *
 * @example
 * const schema = { type: 'object', properties: { rps: { type: 'number' } }, required: ['rps'] } as const;
 * type Config = ConfigFromSchema<typeof schema>;  // { rps: number; [x: string]: unknown }
 */
export type ConfigFromSchema<S> = object extends S ? unknown : S extends JSONSchema ? FromSchema<S> : unknown;

/**
 * What a filter's hooks see as `ctx.config`: what `parseConfig` returns (`P`) when there is one,
 * otherwise what the literal `configSchema` (`S`) describes; `undefined` without either.
 */
export type FilterConfig<P, S> = [P] extends [never] ? (object extends S ? undefined : ConfigFromSchema<S>) : P;

// A filter's `configSchema` (JSON Schema, draft 2020-12 or 07): checked with Ajv when the config
// loads, so a bad config is rejected by Envoy with a message naming the field, never at request
// time. Defaults declared in the schema are filled in before parseConfig sees the value.

import type { ErrorObject, ValidateFunction } from 'ajv';

import { ConfigError } from '../api/errors';
import { errorMessage } from './log';

// Ajv compiles each schema to a function once per definition (a bundle loaded again makes new
// definitions, hence new compilations).
const compiled = new WeakMap<object, ValidateFunction>();
let ajv: import('ajv').default | undefined;

function validator(filterName: string, schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (validate !== undefined) return validate;
  // Loaded on first use: chains without schemas do not pay for Ajv.
  if (ajv === undefined) {
    const Ajv = (require('ajv/dist/2020') as typeof import('ajv/dist/2020')).default;
    const addFormats = (require('ajv-formats') as typeof import('ajv-formats')).default;
    ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
    addFormats(ajv);
  }
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    throw new ConfigError(`filter '${filterName}' declares an invalid configSchema: ${errorMessage(error)}`);
  }
  compiled.set(schema, validate);
  return validate;
}

/** `limits[0].rps` for the JSON pointer `/limits/0/rps`; `config` for the root. */
function fieldPath(pointer: string, child?: string): string {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  let path = 'config';
  for (const part of parts) path += /^\d+$/.test(part) ? `[${part}]` : `.${part}`;
  return path;
}

function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${fieldPath(error.instancePath, String(params['missingProperty']))} is required`;
    case 'additionalProperties':
      return `${fieldPath(error.instancePath, String(params['additionalProperty']))} is not a known field`;
    case 'enum':
      return `${fieldPath(error.instancePath)} must be one of ${JSON.stringify(params['allowedValues'])}`;
    default:
      return `${fieldPath(error.instancePath)} ${error.message ?? 'is invalid'}`;
  }
}

/**
 * Check a filter's raw config against its schema, filling in schema defaults. Throws ConfigError
 * listing every offending field (`filter 'rate-limit': config.rps must be >= 1`).
 */
export function checkConfigSchema(filterName: string, schema: object, rawConfig: unknown): unknown {
  const validate = validator(filterName, schema);
  // An absent `config` of an object schema is `{}`, so its defaults fill in and its required
  // fields are named. Ajv fills defaults in place: validate a copy, never the caller's value.
  const value = rawConfig === undefined
    ? ((schema as { type?: unknown }).type === 'object' ? {} : undefined)
    : structuredClone(rawConfig);
  if (validate(value)) return value;
  // A failed `if`/`then` adds a summary error after the specific ones: it names no field.
  const messages = (validate.errors ?? []).filter((e) => e.keyword !== 'if').map(describe);
  throw new ConfigError(`filter '${filterName}': ${[...new Set(messages)].join('; ')}`);
}

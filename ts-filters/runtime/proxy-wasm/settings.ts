// The `config` of a proxy-wasm chain entry:
//   {"module": "/etc/envoy/filters/add_header.wasm", "rootId": "add_header",
//    "configuration": "...", "vmId": "...", "vmConfiguration": "..."}
// (Envoy's Wasm filter names the same things root_id, configuration, vm_config.vm_id,
// vm_config.configuration and vm_config.code.local.filename.)

import { resolve } from 'path';

import type { PluginSettings } from './host';
import { utf8Encoder } from './memory';

/** Checked by the runtime (Ajv) before parseSettings runs. */
export const SETTINGS_SCHEMA = {
  type: 'object',
  properties: {
    module: { type: 'string', minLength: 1 },
    rootId: { type: 'string' },
    configuration: {},
    vmId: { type: 'string' },
    vmConfiguration: {},
  },
  required: ['module'],
  additionalProperties: false,
} as const;

interface RawSettings {
  readonly module: string;
  readonly rootId?: string;
  readonly configuration?: unknown;
  readonly vmId?: string;
  readonly vmConfiguration?: unknown;
}

/** Settings from a checked config. A relative module path is resolved against the proxy's working
 *  directory (like `bundle`); a configuration that is not a string is passed as its JSON text. */
export function parseSettings(raw: unknown): PluginSettings {
  const checked = raw as RawSettings;
  return {
    module: resolve(checked.module),
    rootId: checked.rootId ?? '',
    vmId: checked.vmId ?? '',
    configuration: configurationBytes(checked.configuration),
    vmConfiguration: configurationBytes(checked.vmConfiguration),
  };
}

function configurationBytes(value: unknown): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  return utf8Encoder.encode(typeof value === 'string' ? value : JSON.stringify(value));
}

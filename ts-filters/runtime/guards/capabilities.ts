// The `capabilities` key of a filter_config (DESIGN §6): what a chain opts into beyond the
// defaults. Off by default: child processes, worker threads, process.env writes and file system
// writes. A guard against accidents, not a security boundary: filter code is trusted like
// Envoy's own config, and a determined bundle can reach around it.

import { CapabilityError, ConfigError } from '../../api/errors';

/** The capabilities a filter_config can grant. */
export type Capability = 'childProcess' | 'workerThreads' | 'envWrite' | 'fsWrite';

/** Every capability, in the order the docs and messages list them. */
export const CAPABILITIES: readonly Capability[] = ['childProcess', 'workerThreads', 'envWrite', 'fsWrite'];

/** What a config grants, per capability. */
export type Capabilities = Readonly<Record<Capability, boolean>>;

/** The default: nothing granted. */
export const NO_CAPABILITIES: Capabilities = Object.freeze({
  childProcess: false, workerThreads: false, envWrite: false, fsWrite: false,
});

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A filter_config's `capabilities` value, checked. Throws ConfigError naming the field. */
export function parseCapabilities(raw: unknown): Capabilities {
  if (raw === undefined) return NO_CAPABILITIES;
  if (!isPlainObject(raw)) {
    throw new ConfigError(`'capabilities' must be an object like {"fsWrite": true} ` +
                          `(keys: ${CAPABILITIES.map((c) => `'${c}'`).join(', ')})`);
  }
  const unknownKeys = Object.keys(raw).filter((key) => !(CAPABILITIES as readonly string[]).includes(key));
  if (unknownKeys.length > 0) {
    throw new ConfigError(`'capabilities' has unknown key(s) ${unknownKeys.map((k) => `'${k}'`).join(', ')} ` +
                          `(allowed: ${CAPABILITIES.map((c) => `'${c}'`).join(', ')})`);
  }
  const granted: Record<Capability, boolean> = { ...NO_CAPABILITIES };
  for (const capability of CAPABILITIES) {
    const value = raw[capability];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') {
      throw new ConfigError(`'capabilities.${capability}' must be true or false, got ${JSON.stringify(value)}`);
    }
    granted[capability] = value;
  }
  return Object.freeze(granted);
}

/** The error a denied use throws: it names what was used and the switch that allows it. */
export function capabilityError(what: string, capability: Capability): CapabilityError {
  return new CapabilityError(`${what} is not available to filters: set "capabilities": ` +
                             `{"${capability}": true} in the filter_config`);
}

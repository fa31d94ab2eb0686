// The checks defineHttpFilter and defineNetworkFilter share: what every filter definition has.

/**
 * Throw a TypeError naming `definer` (e.g. `defineHttpFilter('x'): ...`) unless `options` is an
 * object with a clean non-empty name, a function (or nothing) under each of `functionKeys`, and
 * well-typed `metrics` and `configSchema` when present.
 */
export function checkFilterOptions(definer: string, options: unknown, functionKeys: readonly string[]): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${definer}: expected an options object`);
  }
  const fields = options as Record<string, unknown>;
  const { name, metrics, configSchema } = fields;
  if (typeof name !== 'string' || name.length === 0 || name.trim() !== name) {
    throw new TypeError(`${definer}: \`name\` must be a non-empty string without surrounding spaces`);
  }
  for (const key of functionKeys) {
    const value = fields[key];
    if (value !== undefined && typeof value !== 'function') {
      throw new TypeError(`${definer}('${name}'): \`${key}\` must be a function`);
    }
  }
  if (metrics !== undefined && typeof metrics !== 'function' &&
      (typeof metrics !== 'object' || metrics === null)) {
    throw new TypeError(`${definer}('${name}'): \`metrics\` must be an object or a function`);
  }
  if (configSchema !== undefined && (typeof configSchema !== 'object' || configSchema === null)) {
    throw new TypeError(`${definer}('${name}'): \`configSchema\` must be a JSON Schema object`);
  }
}

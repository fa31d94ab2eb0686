// Parsed filter configs that hold resources beyond the garbage collector's reach (a proxy-wasm
// plugin's timers and its context in a VM) carry a `kDisposeConfig` method. The config store calls
// it when the config (or per-route config) that parsed them is unloaded or replaced; what streams
// still use stays usable until they end.

export const kDisposeConfig = Symbol('envoy-ts.disposeConfig');

/** Dispose a parsed config value if it holds anything. Never throws. */
export function disposeConfigValue(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  const dispose = (value as { [kDisposeConfig]?: unknown })[kDisposeConfig];
  if (typeof dispose !== 'function') return;
  try {
    (dispose as () => void).call(value);
  } catch {
    // Releasing a config must not fail the unload.
  }
}

// The filter configs and per-route configs loaded in one environment, each with the bundle version
// it was validated with (bundle-versions.ts).
//
// A config is replaced only by one that loaded: a worker that fails to load a newer revision of a
// config (see ConfigRegistry: a watch-mode reload) keeps serving the one it has. A stream holds
// the LoadedConfig it started with (StreamState.config), so replacing or unloading a config here
// never changes a running stream's chain; the replaced version is released, and its module is
// garbage once the last such stream ended.

import { ConfigError } from '../api/errors';
import { BundleVersions, readBundle, type BundleVersion, type PinnedSource } from './bundle-versions';
import { ConfigKind, LogLevel } from './codes';
import { loadFilterConfig, type BundleLoader, type LoadedConfig } from './config';
import { disposeConfigValue } from './dispose';
import { environmentGrants } from './guards/capability-grants';
import { RUNTIME_PREFIX, writeLog } from './log';
import type { ConfigKind as NativeConfigKind, NativeBinding } from './native';
import { disposeRouteConfig, loadRouteConfig, type RouteConfig } from './route-config';

/** What a config was loaded from, to load it again. */
interface Source {
  readonly json: string;
  readonly kind: NativeConfigKind;
  /** Undefined when the bundle came from an injected loader (tests). */
  readonly version: BundleVersion | undefined;
}

/** How reload() went. */
export type ReloadResult =
  | { readonly outcome: 'reloaded'; readonly hash: string }
  | { readonly outcome: 'unchanged' };

export class ConfigStore {
  /** Filter configs (HTTP and network) by id: what streams start with. */
  readonly configs = new Map<number, LoadedConfig>();
  readonly routeConfigs = new Map<number, RouteConfig>();
  readonly #sources = new Map<number, Source>();
  readonly #versions = new BundleVersions();
  readonly #binding: NativeBinding;
  readonly #injectedLoader: BundleLoader | undefined;

  /** `loadBundle`: tests inject modules instead of bundle files. */
  constructor(binding: NativeBinding, loadBundle?: BundleLoader) {
    this.#binding = binding;
    this.#injectedLoader = loadBundle;
  }

  /**
   * Loads config `id` from its filter_config `json`; with `pinned`, the bundle is that content
   * (what the environment that validated the config read), not what the file holds now.
   * Replaces a loaded config of that id only when this one loads. Throws ConfigError.
   */
  load(id: number, json: string, kind: NativeConfigKind, pinned?: PinnedSource): void {
    this.#load(id, json, kind, pinned, undefined);
  }

  /**
   * Watch mode: loads config `id` again from what its bundle file holds now, unless that is the
   * version it runs. The new version must record into the metrics Envoy defined for the config.
   * Throws ConfigError (the config keeps its version).
   */
  reload(id: number): ReloadResult {
    const config = this.configs.get(id);
    const source = this.#sources.get(id);
    if (config === undefined || source?.version === undefined) {
      throw new ConfigError(`filter config ${id} is not loaded here from a bundle file`);
    }
    const current = readBundle(config.bundle);
    if (current.hash === source.version.hash) return { outcome: 'unchanged' };
    this.#load(id, source.json, source.kind, current, config.metrics);
    return { outcome: 'reloaded', hash: current.hash };
  }

  unload(id: number): void {
    this.#disposeParsed(id);
    this.configs.delete(id);
    this.routeConfigs.delete(id);
    this.#release(id);
    environmentGrants.revoke(id);
  }

  /** The bundle version config `id` runs, with whether it is watched, or undefined. */
  bundleOf(id: number): { version: BundleVersion; watch: boolean } | undefined {
    const version = this.#sources.get(id)?.version;
    if (version === undefined) return undefined;
    return { version, watch: this.configs.get(id)?.watch ?? false };
  }

  /** How many bundle versions this environment holds (tests). */
  get versionCount(): number {
    return this.#versions.size;
  }

  #load(id: number, json: string, kind: NativeConfigKind, pinned: PinnedSource | undefined,
        definedMetrics: LoadedConfig['metrics'] | undefined): void {
    let acquired: BundleVersion | undefined;
    const loadBundle: BundleLoader = this.#injectedLoader ?? ((path) => {
      acquired = this.#versions.acquire(path, pinned);
      return acquired.exports;
    });
    const wasLoaded = this.#sources.has(id);
    try {
      if (kind === ConfigKind.Route) {
        const route = loadRouteConfig(id, json, loadBundle, this.#binding);
        this.#release(id);
        this.#disposeParsed(id);
        this.routeConfigs.set(id, route);
      } else {
        const config = loadFilterConfig(this.#binding, id, json, kind, loadBundle, definedMetrics);
        this.#release(id);
        this.#disposeParsed(id);
        this.configs.set(id, config);
      }
      this.#sources.set(id, { json, kind, version: acquired });
    } catch (error) {
      if (acquired !== undefined) this.#drop(acquired);
      // Loading granted the config's capabilities (config.ts): a config that failed to load grants
      // nothing, unless an earlier load of it still serves.
      if (!wasLoaded) environmentGrants.revoke(id);
      throw error;
    }
  }

  // The parsed filter configs of config `id` (replaced or unloaded) release what they hold; streams
  // that started on them keep using them until they end.
  #disposeParsed(id: number): void {
    const config = this.configs.get(id);
    if (config !== undefined) for (const filter of config.filters) disposeConfigValue(filter.config);
    const route = this.routeConfigs.get(id);
    if (route !== undefined) disposeRouteConfig(route);
  }

  #release(id: number): void {
    const version = this.#sources.get(id)?.version;
    this.#sources.delete(id);
    if (version !== undefined) this.#drop(version);
  }

  #drop(version: BundleVersion): void {
    if (this.#versions.release(version)) {
      writeLog(this.#binding, LogLevel.Debug, RUNTIME_PREFIX,
               `bundle version ${version.hash.slice(0, 12)} of ${version.path} released (no config holds it)`, []);
    }
  }
}

// The grants in force in one Node environment. Configs share the environment of their worker, so
// what is granted is the union of the `capabilities` of the configs loaded in it: a config that
// grants fsWrite lets every filter of the environment write files while it is loaded.

import { CAPABILITIES, capabilityError, type Capabilities, type Capability } from './capabilities';

export class CapabilityGrants {
  readonly #byConfig = new Map<number, Capabilities>();
  #union = new Set<Capability>();

  /** Config `configId` (loaded or being loaded) grants `capabilities`; replaces its earlier grant. */
  grant(configId: number, capabilities: Capabilities): void {
    this.#byConfig.set(configId, capabilities);
    this.#recompute();
  }

  /** Config `configId` is gone (unloaded, or its load failed). */
  revoke(configId: number): void {
    if (this.#byConfig.delete(configId)) this.#recompute();
  }

  /** Whether some loaded config grants `capability`. */
  has(capability: Capability): boolean {
    return this.#union.has(capability);
  }

  /** Throws CapabilityError naming `what` unless `capability` is granted. */
  check(capability: Capability, what: string): void {
    if (!this.#union.has(capability)) throw capabilityError(what, capability);
  }

  #recompute(): void {
    const union = new Set<Capability>();
    for (const granted of this.#byConfig.values()) {
      for (const capability of CAPABILITIES) {
        if (granted[capability]) union.add(capability);
      }
    }
    this.#union = union;
  }
}

/** This environment's grants (module state of the runtime bundle: one per Node environment). */
export const environmentGrants = new CapabilityGrants();

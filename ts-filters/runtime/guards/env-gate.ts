// The capability gate on process.env writes (envWrite): process.env becomes a view of the real
// environment object that reads as before and throws CapabilityError on a set, a delete or a
// defineProperty unless a config of the environment grants envWrite. The property itself is made
// read-only, so `process.env = {...}` does not replace the view either. Child processes and worker
// threads still inherit the real environment (Node copies it when a spawn's `env` is process.env).

import type { CapabilityGrants } from './capability-grants';

/** What the gate patches: an object with an `env`. */
export interface EnvHolder {
  env: object;
}

/** Replace `holder.env` by a gated view of it. */
export function installEnvGate(holder: EnvHolder, grants: CapabilityGrants): void {
  const env = holder.env;
  const view = new Proxy(env, {
    get: (target, key) => Reflect.get(target, key),
    set: (target, key, value) => {
      grants.check('envWrite', `writing process.env.${String(key)}`);
      return Reflect.set(target, key, value);
    },
    deleteProperty: (target, key) => {
      grants.check('envWrite', `deleting process.env.${String(key)}`);
      return Reflect.deleteProperty(target, key);
    },
    defineProperty: (target, key, descriptor) => {
      grants.check('envWrite', `defining process.env.${String(key)}`);
      return Reflect.defineProperty(target, key, descriptor);
    },
  });
  const descriptor = Object.getOwnPropertyDescriptor(holder, 'env');
  Object.defineProperty(holder, 'env', {
    value: view,
    writable: false,
    enumerable: descriptor?.enumerable ?? true,
    configurable: false,
  });
}

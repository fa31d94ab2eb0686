// What the CLI reads of a project's envoy.yaml, parsed once: where the admin endpoint answers (dev
// waits on /ready there) and where the listeners listen (dev prints them).

import { readFileSync } from 'node:fs';

import { parse } from 'yaml';

interface SocketAddressYaml {
  readonly socket_address?: { readonly address?: string; readonly port_value?: number };
}

/** The parts of an envoy.yaml the CLI reads; the rest is kept as it is. */
export interface EnvoyYaml {
  admin?: { address?: SocketAddressYaml };
  static_resources?: { listeners?: { name?: string; address?: SocketAddressYaml }[] };
}

export function readEnvoyYaml(path: string): EnvoyYaml {
  return (parse(readFileSync(path, 'utf8')) ?? {}) as EnvoyYaml;
}

/** The admin endpoint it declares (host:port), or null without one. */
export function adminAddress(config: EnvoyYaml): string | null {
  const socket = config.admin?.address?.socket_address;
  return socket?.port_value ? `${socket.address ?? '127.0.0.1'}:${socket.port_value}` : null;
}

/** Its static listeners, as "name on host:port". */
export function listenerAddresses(config: EnvoyYaml): string[] {
  return (config.static_resources?.listeners ?? []).map((l) =>
    `${l.name ?? 'listener'} on ${l.address?.socket_address?.address}:${l.address?.socket_address?.port_value}`);
}

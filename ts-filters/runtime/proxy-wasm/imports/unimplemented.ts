// Host calls envoy-ts does not implement: they answer UNIMPLEMENTED, and the first call of each in
// an environment is logged (a warning naming the call and the module).

import { RUNTIME_PREFIX } from '../../log';
import { Status } from '../abi';
import type { ProxyWasmHost } from '../host';
import type { WasmVm } from '../vm';

/** gRPC calls need Envoy's gRPC client, which dynamic modules cannot reach; TCP stream calls have
 *  no HTTP filter to act on. (Listed for the README's table; any other unknown proxy_* call is
 *  answered the same way.) */
export const UNIMPLEMENTED_CALLS: readonly string[] = [
  'proxy_grpc_call', 'proxy_grpc_stream', 'proxy_grpc_send', 'proxy_grpc_cancel', 'proxy_grpc_close',
];

export function unimplemented(host: ProxyWasmHost, vm: WasmVm, name: string): () => number {
  return (): number => {
    const prefix = vm.effective?.plugin.logPrefix ?? RUNTIME_PREFIX;
    host.warnOnce(`unimplemented\0${name}`, prefix,
                  `${name} is not supported by envoy-ts: it answers UNIMPLEMENTED (module ${vm.compiled.path})`);
    return Status.Unimplemented;
  };
}

/** Log once that `name` is not supported in this situation, and answer UNIMPLEMENTED. */
export function unsupported(host: ProxyWasmHost, vm: WasmVm, name: string, why: string): number {
  const prefix = vm.effective?.plugin.logPrefix ?? RUNTIME_PREFIX;
  host.warnOnce(`unsupported\0${name}\0${why}`, prefix, `${name}: ${why}; it answers UNIMPLEMENTED`);
  return Status.Unimplemented;
}

// Shared data and shared queues, one per process (every worker's VMs see the same ones, through
// native/runtime's stores): proxy_get_shared_data, proxy_set_shared_data,
// proxy_register_shared_queue, proxy_resolve_shared_queue, proxy_enqueue_shared_queue,
// proxy_dequeue_shared_queue. proxy_on_queue_ready reaches the plugin contexts that registered a
// queue (host.ts says when).

import { Status } from '../abi';
import type { ProxyWasmHost } from '../host';
import type { WasmVm } from '../vm';
import type { HostCalls } from './index';

export function sharedStateImports(host: ProxyWasmHost, vm: WasmVm): HostCalls {
  const { binding } = host;
  return {
    proxy_get_shared_data: (keyPointer: number, keySize: number, valueOut: number, valueSizeOut: number,
                            casOut: number): number => {
      const found = binding.sharedDataGet(vm.memory.latin1(keyPointer, keySize));
      if (found === undefined) return Status.NotFound;
      vm.memory.give(found[0], valueOut, valueSizeOut);
      vm.memory.writeU32(casOut, found[1]);
      return Status.Ok;
    },
    proxy_set_shared_data: (keyPointer: number, keySize: number, valuePointer: number, valueSize: number,
                            cas: number): number => {
      const key = vm.memory.latin1(keyPointer, keySize);
      return binding.sharedDataSet(key, vm.memory.copy(valuePointer, valueSize), cas >>> 0) ? Status.Ok
        : Status.CasMismatch;
    },
    proxy_register_shared_queue: (namePointer: number, nameSize: number, tokenOut: number): number => {
      const plugin = vm.effective?.plugin;
      if (plugin === undefined) return Status.BadArgument;
      const token = binding.sharedQueueRegister(vm.vmId, vm.memory.latin1(namePointer, nameSize));
      vm.memory.writeU32(tokenOut, token);
      host.addQueueReader(token, plugin);
      return Status.Ok;
    },
    proxy_resolve_shared_queue: (vmIdPointer: number, vmIdSize: number, namePointer: number, nameSize: number,
                                 tokenOut: number): number => {
      const token = binding.sharedQueueResolve(vm.memory.latin1(vmIdPointer, vmIdSize),
                                               vm.memory.latin1(namePointer, nameSize));
      if (token === 0) return Status.NotFound;
      vm.memory.writeU32(tokenOut, token);
      return Status.Ok;
    },
    proxy_enqueue_shared_queue: (token: number, pointer: number, size: number): number => {
      if (!binding.sharedQueueEnqueue(token >>> 0, vm.memory.copy(pointer, size))) return Status.NotFound;
      host.enqueued(token >>> 0);
      return Status.Ok;
    },
    proxy_dequeue_shared_queue: (token: number, dataOut: number, sizeOut: number): number => {
      const item = binding.sharedQueueDequeue(token >>> 0);
      if (item === undefined) return Status.NotFound;
      if (item === null) return Status.Empty;
      vm.memory.give(item, dataOut, sizeOut);
      return Status.Ok;
    },
  };
}

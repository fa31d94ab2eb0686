// Buffers: proxy_get_buffer_bytes, proxy_get_buffer_status, proxy_set_buffer_bytes. HTTP bodies are
// the chunk the running (or paused) body hook holds, with what the module buffered in front of it
// (stream-context.ts); HTTP_CALL_RESPONSE_BODY is the answer being delivered; the configurations
// are the plugin's. Body edits go straight to Envoy's buffer.

import type { BodyChunk } from '../../../api/types';
import { concatViews } from '../../bytes';
import { BufferType, Status } from '../abi';
import type { WasmVm } from '../vm';
import type { HostCalls } from './index';

/** A buffer: readable bytes, and for bodies the chunk to edit. */
type Source = { readonly bytes: Uint8Array; readonly endOfStream: boolean } | { readonly chunk: BodyChunk };

function source(vm: WasmVm, type: number): Source | number {
  const record = vm.effective;
  switch (type) {
    case BufferType.HttpRequestBody:
    case BufferType.HttpResponseBody: {
      const chunk = record?.stream?.bodies[type];
      return chunk === undefined ? Status.NotFound : { chunk };
    }
    case BufferType.HttpCallResponseBody:
      return vm.callResponse === undefined ? Status.NotFound : { bytes: vm.callResponse.body, endOfStream: true };
    case BufferType.PluginConfiguration:
      return record === undefined ? Status.NotFound : { bytes: record.plugin.settings.configuration, endOfStream: true };
    case BufferType.VmConfiguration:
      return record === undefined ? Status.NotFound : { bytes: record.plugin.settings.vmConfiguration, endOfStream: true };
    case BufferType.DownstreamData:
    case BufferType.UpstreamData:
    case BufferType.GrpcCallMessage:
    case BufferType.ForeignFunctionArguments:
      return Status.NotFound;
    default:
      return Status.BadArgument;
  }
}

function lengthOf(from: Exclude<Source, number>): number {
  return 'chunk' in from ? from.chunk.length : from.bytes.length;
}

function replaceRange(vm: WasmVm, type: number, start: number, size: number, pointer: number, length: number): number {
  const from = source(vm, type);
  if (typeof from === 'number') return from;
  if (!('chunk' in from)) return Status.BadArgument;  // read-only buffers
  const data = vm.memory.copy(pointer, length);
  const { chunk } = from;
  const total = chunk.length;
  const begin = Math.min(start >>> 0, total);
  const end = Math.min(begin + (size >>> 0), total);
  if (begin === 0 && end === total) chunk.replace(data);
  else if (begin === 0 && end === 0) chunk.prepend(data);
  else if (begin === total) chunk.append(data);
  else chunk.replace(concatViews([chunk.bytes(0, begin), data, chunk.bytes(end)]));
  return Status.Ok;
}

export function bufferImports(vm: WasmVm): HostCalls {
  return {
    proxy_get_buffer_bytes: (type: number, start: number, maxSize: number, dataOut: number, sizeOut: number): number => {
      const from = source(vm, type);
      if (typeof from === 'number') return from;
      const total = lengthOf(from);
      const begin = start >>> 0;
      const wanted = maxSize >>> 0;
      if (begin + wanted > 0xffffffff) return Status.BadArgument;
      // As Envoy's host: reading past the end gives what is there (nothing: address and size 0).
      const end = Math.min(begin + wanted, total);
      const bytes = begin >= end ? new Uint8Array(0)
        : 'chunk' in from ? from.chunk.bytes(begin, end) : from.bytes.subarray(begin, end);
      vm.memory.give(bytes, dataOut, sizeOut);
      return Status.Ok;
    },
    // The AssemblyScript SDK (0.1.x) imports its proxy_set_buffer_bytes under this name too, with
    // the setter's five arguments: five arguments are a set.
    proxy_get_buffer_status: (type: number, lengthOut: number, flagsOut: number, ...set: number[]): number => {
      if (set.length === 2) return replaceRange(vm, type, lengthOut, flagsOut, set[0] as number, set[1] as number);
      const from = source(vm, type);
      if (typeof from === 'number') return from;
      vm.memory.writeU32(lengthOut, lengthOf(from));
      const end = 'chunk' in from ? from.chunk.endOfStream : from.endOfStream;
      vm.memory.writeU32(flagsOut, end ? 1 : 0);
      return Status.Ok;
    },
    proxy_set_buffer_bytes: (type: number, start: number, size: number, pointer: number, length: number): number =>
      replaceRange(vm, type, start, size, pointer, length),
  };
}

// HTTP fields: proxy_get_header_map_value, proxy_get_header_map_pairs, proxy_get_header_map_size,
// proxy_set_header_map_pairs, proxy_add_header_map_value, proxy_replace_header_map_value,
// proxy_remove_header_map_value. The stream's maps are envoy-ts's HeaderMap views (a write goes
// straight to Envoy, with envoy-ts's checks: CR, LF and NUL are refused as BAD_ARGUMENT); an HTTP
// call's answer is read-only.

import type { HeaderMap } from '../../../api/types';
import { MapType, Status } from '../abi';
import { latin1Bytes } from '../memory';
import { encodePairs, decodePairs, type Pairs } from '../pairs';
import type { WasmVm } from '../vm';
import type { HostCalls } from './index';

type FieldMap = { readonly writable: HeaderMap } | { readonly readOnly: Pairs };

function fieldMap(vm: WasmVm, type: number): FieldMap | undefined {
  if (type === MapType.HttpCallResponseHeaders || type === MapType.HttpCallResponseTrailers) {
    const response = vm.callResponse;
    if (response === undefined) return undefined;
    return { readOnly: type === MapType.HttpCallResponseHeaders ? response.headers : response.trailers };
  }
  const map = vm.effective?.stream?.headerMap(type);
  return map === undefined ? undefined : { writable: map };
}

function pairsOf(map: FieldMap): Pairs {
  return 'readOnly' in map ? map.readOnly : [...map.writable.entries()];
}

function known(type: number): boolean {
  return type >= MapType.RequestHeaders && type <= MapType.HttpCallResponseTrailers;
}

export function headerImports(vm: WasmVm): HostCalls {
  const writable = (type: number): HeaderMap | number => {
    if (!known(type)) return Status.BadArgument;
    const map = fieldMap(vm, type);
    if (map === undefined) return Status.NotFound;
    return 'writable' in map ? map.writable : Status.BadArgument;
  };
  return {
    proxy_get_header_map_value: (type: number, keyPointer: number, keySize: number, valueOut: number,
                                 valueSizeOut: number): number => {
      if (!known(type)) return Status.BadArgument;
      const map = fieldMap(vm, type);
      if (map === undefined) return Status.NotFound;
      const key = vm.memory.latin1(keyPointer, keySize).toLowerCase();
      const value = 'readOnly' in map ? map.readOnly.find(([name]) => name === key)?.[1] ?? null
        : map.writable.get(key);
      if (value === null) return Status.NotFound;
      vm.memory.give(latin1Bytes(value), valueOut, valueSizeOut);
      return Status.Ok;
    },
    proxy_get_header_map_pairs: (type: number, pairsOut: number, sizeOut: number): number => {
      if (!known(type)) return Status.BadArgument;
      const map = fieldMap(vm, type);
      if (map === undefined) return Status.NotFound;
      vm.memory.give(encodePairs(pairsOf(map)), pairsOut, sizeOut);
      return Status.Ok;
    },
    proxy_get_header_map_size: (type: number, sizeOut: number): number => {
      if (!known(type)) return Status.BadArgument;
      const map = fieldMap(vm, type);
      if (map === undefined) return Status.NotFound;
      vm.memory.writeU32(sizeOut, encodePairs(pairsOf(map)).length);
      return Status.Ok;
    },
    proxy_set_header_map_pairs: (type: number, pointer: number, size: number): number => {
      const map = writable(type);
      if (typeof map === 'number') return map;
      const pairs = decodePairs(vm.memory.view(pointer, size));
      const names = new Set(pairs.map(([name]) => name.toLowerCase()));
      for (const [name] of map.entries()) {
        if (!names.has(name)) map.delete(name);
      }
      const written = new Set<string>();
      for (const [rawName, value] of pairs) {
        const name = rawName.toLowerCase();
        if (written.has(name)) map.add(name, value);
        else map.set(name, value);
        written.add(name);
      }
      return Status.Ok;
    },
    proxy_add_header_map_value: (type: number, keyPointer: number, keySize: number, valuePointer: number,
                                 valueSize: number): number => {
      const map = writable(type);
      if (typeof map === 'number') return map;
      map.add(vm.memory.latin1(keyPointer, keySize), vm.memory.latin1(valuePointer, valueSize));
      return Status.Ok;
    },
    proxy_replace_header_map_value: (type: number, keyPointer: number, keySize: number, valuePointer: number,
                                     valueSize: number): number => {
      const map = writable(type);
      if (typeof map === 'number') return map;
      map.set(vm.memory.latin1(keyPointer, keySize), vm.memory.latin1(valuePointer, valueSize));
      return Status.Ok;
    },
    proxy_remove_header_map_value: (type: number, keyPointer: number, keySize: number): number => {
      const map = writable(type);
      if (typeof map === 'number') return map;
      map.delete(vm.memory.latin1(keyPointer, keySize));
      return Status.Ok;
    },
  };
}


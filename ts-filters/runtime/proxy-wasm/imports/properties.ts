// Properties: proxy_get_property, proxy_set_property. A path is its segments joined by NUL (ABI
// v0.2.x). The stream's attributes envoy-ts has are read as Envoy's attribute names; strings are
// their bytes, integers 8 bytes little-endian, booleans one byte. A path that is no attribute reads
// the filter state key "wasm.<segments joined by '.'>", which proxy_set_property writes (Envoy
// keeps Wasm-set properties in filter state under the same prefix): a TypeScript filter reads and
// writes the same keys with ctx.getFilterState / ctx.setFilterState.

import type { HttpFilterContext } from '../../../api/types';
import { Status } from '../abi';
import { utf8Encoder } from '../memory';
import type { ContextRecord, WasmVm } from '../vm';
import type { HostCalls } from './index';

type Value = string | number | boolean | Uint8Array | null;

/** The filter state key of a property path that is not an attribute. */
export function filterStateKey(segments: readonly string[]): string {
  return `wasm.${segments.join('.')}`;
}

function header(ctx: HttpFilterContext<unknown>, name: string): string | null {
  return ctx.requestHeaders.get(name);
}

function requestProperty(ctx: HttpFilterContext<unknown>, field: string): Value | undefined {
  const path = header(ctx, ':path');
  switch (field) {
    case 'path': return path;
    case 'url_path': return path === null ? null : path.split('?')[0] ?? '';
    case 'query': return path === null || !path.includes('?') ? null : path.slice(path.indexOf('?') + 1);
    case 'host': return header(ctx, ':authority') ?? header(ctx, 'host');
    case 'method': return header(ctx, ':method');
    case 'scheme': return header(ctx, ':scheme') ?? header(ctx, 'x-forwarded-proto');
    case 'referer': return header(ctx, 'referer');
    case 'useragent': return header(ctx, 'user-agent');
    case 'id': return ctx.attributes.requestId ?? header(ctx, 'x-request-id');
    case 'protocol': return ctx.attributes.protocol;
    default: return undefined;
  }
}

function address(host: string | null, port: number | null): string | null {
  if (host === null) return null;
  return port === null ? host : `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function streamProperty(ctx: HttpFilterContext<unknown>, segments: readonly string[]): Value | undefined {
  const [root, field] = segments;
  const attributes = ctx.attributes;
  if (segments.length === 2 && root === 'request' && field !== undefined) return requestProperty(ctx, field);
  if (segments.length === 2 && root === 'response' && field === 'code') {
    try {
      const status = ctx.responseHeaders.get(':status');
      return status === null ? null : Number(status);
    } catch {
      return null;  // no response yet
    }
  }
  if (segments.length === 2 && root === 'source') {
    if (field === 'address') return address(attributes.sourceAddress, attributes.sourcePort);
    if (field === 'port') return attributes.sourcePort;
  }
  if (segments.length === 2 && root === 'destination') {
    if (field === 'address') return address(attributes.destinationAddress, attributes.destinationPort);
    if (field === 'port') return attributes.destinationPort;
  }
  if (segments.length === 2 && root === 'connection') {
    if (field === 'id') return attributes.connectionId;
    if (field === 'mtls') return attributes.mtls;
    if (field === 'requested_server_name') return attributes.requestedServerName;
    if (field === 'tls_version') return attributes.tlsVersion;
  }
  if ((segments.length === 1 && root === 'route_name') ||
      (segments.length === 2 && root === 'xds' && field === 'route_name')) {
    return attributes.routeName;
  }
  return undefined;
}

function pluginProperty(record: ContextRecord, segments: readonly string[]): Value | undefined {
  if (segments.length !== 1) return undefined;
  switch (segments[0]) {
    case 'plugin_name': return record.plugin.name;
    case 'plugin_root_id': return record.plugin.settings.rootId;
    case 'plugin_vm_id': return record.plugin.settings.vmId;
    default: return undefined;
  }
}

function encode(value: Exclude<Value, null>): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return utf8Encoder.encode(value);
  if (typeof value === 'boolean') return new Uint8Array([value ? 1 : 0]);
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigInt64(0, BigInt(Math.trunc(value)), true);
  return bytes;
}

export function propertyImports(vm: WasmVm): HostCalls {
  const segmentsOf = (pointer: number, size: number): string[] =>
    vm.memory.text(pointer, size).split('\0').filter((segment) => segment !== '');
  return {
    proxy_get_property: (pathPointer: number, pathSize: number, valueOut: number, valueSizeOut: number): number => {
      const record = vm.effective;
      if (record === undefined) return Status.NotFound;
      const segments = segmentsOf(pathPointer, pathSize);
      const ctx = record.stream?.ctx;
      let value = pluginProperty(record, segments);
      if (value === undefined && ctx !== undefined) value = streamProperty(ctx, segments);
      if (value === undefined && ctx !== undefined && segments.length > 0) {
        value = ctx.getFilterState(filterStateKey(segments));
      }
      if (value === undefined || value === null) return Status.NotFound;
      vm.memory.give(encode(value), valueOut, valueSizeOut);
      return Status.Ok;
    },
    proxy_set_property: (pathPointer: number, pathSize: number, valuePointer: number, valueSize: number): number => {
      const ctx = vm.effective?.stream?.ctx;
      const segments = segmentsOf(pathPointer, pathSize);
      if (ctx === undefined || segments.length === 0) return Status.NotFound;
      ctx.setFilterState(filterStateKey(segments), vm.memory.copy(valuePointer, valueSize));
      return Status.Ok;
    },
  };
}

// Stream control and HTTP calls: proxy_continue_stream, proxy_close_stream,
// proxy_send_local_response, proxy_clear_route_cache, proxy_http_call (→ ctx.fetch through the
// Envoy cluster it names; proxy_on_http_call_response follows on the plugin context, as in Envoy).

import type { FetchResponse } from '../../../api/types';
import { Status } from '../abi';
import type { ProxyWasmHost } from '../host';
import { decodePairs, type Pairs } from '../pairs';
import type { StreamContext } from '../stream-context';
import { failureText, type WasmVm } from '../vm';
import type { HostCalls } from './index';
import { unsupported } from './unimplemented';

// What Envoy takes as response code details: visible ASCII, no spaces.
const DETAILS = /^[\x21-\x7e]+$/;

export function streamImports(host: ProxyWasmHost, vm: WasmVm): HostCalls {
  const streamOrStatus = (name: string): StreamContext | number => {
    const stream = vm.effective?.stream;
    return stream ?? unsupported(host, vm, name, 'called outside a stream context');
  };
  return {
    proxy_continue_stream: (type: number): number => {
      const stream = streamOrStatus('proxy_continue_stream');
      if (typeof stream === 'number') return stream;
      if (type > 3) return Status.BadArgument;
      return stream.continueStream(type) ? Status.Ok
        : unsupported(host, vm, 'proxy_continue_stream', 'TCP streams are not an HTTP filter\'s');
    },
    proxy_close_stream: (): number =>
      unsupported(host, vm, 'proxy_close_stream', 'envoy-ts filters cannot reset a stream (send a local response)'),
    proxy_send_local_response: (status: number, detailsPointer: number, detailsSize: number, bodyPointer: number,
                                bodySize: number, headersPointer: number, headersSize: number): number => {
      const stream = streamOrStatus('proxy_send_local_response');
      if (typeof stream === 'number') return stream;
      const text = vm.memory.text(detailsPointer, detailsSize).replace(/\s+/g, '_');
      const details = DETAILS.test(text) ? text : undefined;
      const headers = decodePairs(vm.memory.view(headersPointer, headersSize));
      stream.ctx.respond(status >>> 0, {
        headers, body: vm.memory.copy(bodyPointer, bodySize), ...(details === undefined ? {} : { details }),
      });
      stream.localReplySent();
      return Status.Ok;
    },
    proxy_clear_route_cache: (): number => {
      const stream = streamOrStatus('proxy_clear_route_cache');
      if (typeof stream === 'number') return stream;
      stream.ctx.clearRouteCache();
      return Status.Ok;
    },
    proxy_http_call: (clusterPointer: number, clusterSize: number, headersPointer: number, headersSize: number,
                      bodyPointer: number, bodySize: number, trailersPointer: number, trailersSize: number,
                      timeoutMs: number, tokenOut: number): number => {
      const stream = vm.effective?.stream;
      if (stream === undefined) {
        return unsupported(host, vm, 'proxy_http_call',
                           'called outside a stream context (envoy-ts makes callouts through a stream)');
      }
      const cluster = vm.memory.text(clusterPointer, clusterSize);
      const headers = decodePairs(vm.memory.view(headersPointer, headersSize));
      const body = vm.memory.copy(bodyPointer, bodySize);
      if (decodePairs(vm.memory.view(trailersPointer, trailersSize)).length > 0) {
        return unsupported(host, vm, 'proxy_http_call', 'request trailers are not sent (Envoy\'s buffered callout has none)');
      }
      const pseudo = (name: string): string | undefined => headers.find(([key]) => key === name)?.[1];
      const method = pseudo(':method');
      const path = pseudo(':path');
      const authority = pseudo(':authority');
      if (cluster === '' || method === undefined || path === undefined || authority === undefined) {
        return Status.BadArgument;
      }
      let response: Promise<FetchResponse>;
      try {
        response = stream.ctx.fetch(`http://${cluster}${path.startsWith('/') ? path : `/${path}`}`, {
          cluster,
          method,
          headers: [['host', authority], ...headers.filter(([key]) => !key.startsWith(':'))],
          body,
          timeoutMs: timeoutMs >>> 0,
        });
      } catch (error) {
        // Envoy could not start it (e.g. no such cluster).
        stream.plugin.log.debug(`proxy_http_call to ${cluster}: ${failureText(error)}`);
        return Status.BadArgument;
      }
      const token = vm.nextCallToken();
      stream.callStarted();
      vm.memory.writeU32(tokenOut, token);
      void answer(vm, stream, token, response);
      return Status.Ok;
    },
  };
}

/** The call's answer (or its failure: no headers) to proxy_on_http_call_response of the plugin
 *  context that made it, while its stream is alive. */
async function answer(vm: WasmVm, stream: StreamContext, token: number, pending: Promise<FetchResponse>): Promise<void> {
  let headers: Pairs = [];
  let body = new Uint8Array(0);
  try {
    const response = await pending;
    headers = [[':status', String(response.status)], ...response.headers];
    body = new Uint8Array(await response.arrayBuffer());
  } catch {
    // Envoy could not make the call, or the stream went away: proxy-wasm says so with no headers.
    headers = [];
  } finally {
    stream.callAnswered();
  }
  if (stream.ended || vm.failed) return;
  const root = stream.plugin.root;
  if (root === undefined || vm !== stream.plugin.vm) return;
  vm.callResponse = { headers, body, trailers: [] };
  try {
    vm.call(root, 'proxy_on_http_call_response', root.id, token, headers.length, body.length, 0);
  } catch (error) {
    if (!stream.fail(error)) stream.plugin.log.error(`proxy_on_http_call_response failed: ${failureText(error)}`);
  } finally {
    vm.callResponse = undefined;
  }
}

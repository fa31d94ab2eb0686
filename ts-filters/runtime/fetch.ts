// ctx.fetch(): an HTTP request through an Envoy cluster (the ABI's one-shot callout), answered
// with a standard Response. The stream keeps the pending requests; onCalloutDone settles them.

import { FetchError, StreamClosedError } from '../api/errors';
import type { FetchInit } from '../api/types';
import { toBytes } from './bytes';
import { checkHeaderName, checkHeaderValue } from './header-map';
import type { NativeBinding } from './native';

const DEFAULT_TIMEOUT_MS = 5000;
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const EMPTY = new Uint8Array(0);

/** What a stream needs to fetch. */
export interface FetchTarget {
  readonly binding: NativeBinding;
  readonly slot: number;
  readonly gen: number;
  readonly closed: boolean;
  /** The stream's pending fetches, by callout id. */
  pendingFetches(): Map<number, PendingFetch>;
}

export interface PendingFetch {
  readonly cluster: string;
  readonly resolve: (response: Response) => void;
  readonly reject: (error: Error) => void;
}

/** Start a callout for `url`/`init` and wait for its response. */
export function fetchThrough(target: FetchTarget, url: string | URL, init: FetchInit = {}): Promise<Response> {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  const cluster = init.cluster ?? parsed.hostname;
  if (cluster === '') throw new TypeError('fetch(): no cluster: give a URL with a host, or init.cluster');
  const method = (init.method ?? 'GET').toUpperCase();
  if (!METHOD.test(method)) throw new TypeError(`fetch(): invalid method ${JSON.stringify(init.method)}`);
  const headers = [':method', method, ':path', `${parsed.pathname}${parsed.search}`];
  let host = parsed.host;
  for (const [name, value] of headerEntries(init.headers)) {
    const key = checkHeaderName(name);
    if (key.startsWith(':')) throw new TypeError(`fetch(): pseudo-header '${key}' cannot be set`);
    checkHeaderValue(key, value);
    if (key === 'host') host = value;
    else headers.push(key, value);
  }
  headers.push('host', host);
  const body = init.body === undefined ? EMPTY : toBytes(init.body, 'fetch() body');
  const timeout = init.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeout) || timeout < 0) throw new TypeError('fetch(): timeoutMs must be a non-negative integer');
  if (target.closed) return Promise.reject(new StreamClosedError('fetch(): the stream is closed'));
  init.signal?.throwIfAborted();

  const id = target.binding.startCallout(target.slot, target.gen, cluster, headers, body, timeout);
  return new Promise<Response>((resolve, reject) => {
    const pending = target.pendingFetches();
    pending.set(id, { cluster, resolve, reject });
    init.signal?.addEventListener('abort', () => {
      if (pending.delete(id)) reject(init.signal?.reason as Error);
    }, { once: true });
  });
}

/** Envoy's answer to callout `id`. */
export function settleFetch(target: FetchTarget, id: number, result: number, headers: string[],
                            body: Uint8Array): void {
  const fetches = target.pendingFetches();
  const pending = fetches.get(id);
  if (pending === undefined) return;  // aborted meanwhile
  fetches.delete(id);
  if (result !== 0) {
    pending.reject(new FetchError(`fetch to cluster '${pending.cluster}' failed: ` +
                                  (result === 2 ? 'the response is over the buffer limit' : 'the upstream reset the response')));
    return;
  }
  let status = 0;
  const responseHeaders = new Headers();
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    if (name === ':status') status = Number(value);
    else if (!name.startsWith(':')) responseHeaders.append(name, value);
  }
  // Responses to HEAD and 1xx/204/304 carry no body (the Response constructor insists).
  const bodyless = status === 204 || status === 304 || status < 200;
  pending.resolve(new Response(bodyless ? null : body, { status, headers: responseHeaders }));
}

/** The stream is gone: every pending fetch rejects. */
export function abandonFetches(fetches: Map<number, PendingFetch>): void {
  for (const pending of fetches.values()) {
    pending.reject(new StreamClosedError(`fetch to cluster '${pending.cluster}': the stream is closed`));
  }
  fetches.clear();
}

function headerEntries(headers: FetchInit['headers']): Iterable<readonly [string, string]> {
  if (headers === undefined) return [];
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return headers as Iterable<readonly [string, string]>;
  }
  return Object.entries(headers as Record<string, string>);
}

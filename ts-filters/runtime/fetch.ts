// ctx.fetch(): an HTTP request through an Envoy cluster, answered with a standard Response
// (fetch-response.ts): the ABI's one-shot callout (Envoy buffers the response), or with
// `stream: true`, a streamed request body or request trailers its streaming callout (the
// Response's body is a ReadableStream of the pieces as they come, and `trailers` resolves with the
// response trailers at its end).
// The stream keeps the pending requests; onCalloutDone and onFetchStream settle them.

import { FetchError, StreamClosedError } from '../api/errors';
import type { FetchInit, FetchResponse } from '../api/types';
import { toBytes } from './bytes';
import { FetchStreamEvent } from './codes';
import { FetchedHeaders, FetchedResponse, HTTP_TOKEN } from './fetch-response';
import { checkHeaderName, checkHeaderValue } from './header-map';
import type { FetchStreamEvent as NativeFetchStreamEvent, NativeBinding } from './native';
import { MapPrototypeClear, MapPrototypeForEach } from './primordials';

const DEFAULT_TIMEOUT_MS = 5000;
const EMPTY = new Uint8Array(0);

/** What a stream needs to fetch. */
export interface FetchTarget {
  readonly binding: NativeBinding;
  readonly slot: number;
  readonly gen: number;
  readonly closed: boolean;
  /** The stream's pending fetches, by callout id. */
  pendingFetches(): Map<number, PendingFetch>;
  /** The stream's streaming fetches, by stream id, until complete or reset. */
  fetchStreams(): Map<number, PendingFetch>;
}

export interface PendingFetch {
  readonly cluster: string;
  readonly resolve: (response: FetchResponse) => void;
  readonly reject: (error: Error) => void;
  /** Streaming fetches, once the response started: where its body goes, and its trailers. */
  body?: ReadableStreamDefaultController<Uint8Array> | undefined;
  trailers?: { resolve(trailers: Headers): void; reject(error: Error): void } | undefined;
}

type StreamBody = ReadableStream<Uint8Array | string> | AsyncIterable<Uint8Array | string>;

function isStreamBody(body: FetchInit['body']): body is StreamBody {
  return typeof body === 'object' && body !== null && !(body instanceof Uint8Array) &&
    (typeof (body as ReadableStream).getReader === 'function' ||
     typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function');
}

/** Start a callout for `url`/`init` and wait for its response. */
export function fetchThrough(target: FetchTarget, url: string | URL, init: FetchInit = {}): Promise<FetchResponse> {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  const cluster = init.cluster ?? parsed.hostname;
  if (cluster === '') throw new TypeError('fetch(): no cluster: give a URL with a host, or init.cluster');
  const method = (init.method ?? 'GET').toUpperCase();
  if (HTTP_TOKEN.exec(method) === null) throw new TypeError(`fetch(): invalid method ${JSON.stringify(init.method)}`);
  const headers = [':method', method, ':path', `${parsed.pathname}${parsed.search}`];
  let host = parsed.host;
  const given = flatHeaders(init.headers, 'fetch()');
  for (let i = 0; i < given.length; i += 2) {
    if (given[i] === 'host') host = given[i + 1] as string;
    else headers.push(given[i] as string, given[i + 1] as string);
  }
  headers.push('host', host);
  const trailers = init.trailers === undefined ? undefined : flatHeaders(init.trailers, 'fetch() trailers');
  const streamed = isStreamBody(init.body) ? init.body : undefined;
  const body = init.body === undefined || streamed !== undefined ? EMPTY
    : toBytes(init.body as string | Uint8Array, 'fetch() body');
  const timeout = init.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeout) || timeout < 0) throw new TypeError('fetch(): timeoutMs must be a non-negative integer');
  if (target.closed) return Promise.reject(new StreamClosedError('fetch(): the stream is closed'));
  init.signal?.throwIfAborted();
  if (init.stream === true || streamed !== undefined || trailers !== undefined) {
    return fetchStreaming(target, cluster, headers, { first: body, streamed, trailers }, timeout, init.signal);
  }

  const id = target.binding.startCallout(target.slot, target.gen, cluster, headers, body, timeout);
  return new Promise<FetchResponse>((resolve, reject) => {
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
  const { status, headers: responseHeaders } = responseHead(headers);
  pending.resolve(new FetchedResponse(status, responseHeaders, { bytes: bodyless(status) ? null : body },
                                      pending.cluster));
}

// Responses with 1xx/204/304 carry no body (as a standard Response's).
function bodyless(status: number): boolean {
  return status === 204 || status === 304 || status < 200;
}

/** The status and the headers of Envoy's flat [name, value, ...] list (pseudo-headers aside). */
function responseHead(flat: string[]): { status: number; headers: FetchedHeaders } {
  let status = 0;
  const fields: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i] as string;
    const value = flat[i + 1] as string;
    if (name === ':status') status = Number(value);
    else if (name.charCodeAt(0) !== 0x3a /* ':' */) fields.push(name.toLowerCase(), value);
  }
  return { status, headers: new FetchedHeaders(fields) };
}

/** A streaming fetch's request after its headers: the first bytes, then the rest, then trailers. */
interface StreamedRequest {
  readonly first: Uint8Array;
  readonly streamed: StreamBody | undefined;
  readonly trailers: string[] | undefined;
}

// A streaming callout: the Response resolves with the response headers; its body streams.
function fetchStreaming(target: FetchTarget, cluster: string, headers: string[], request: StreamedRequest,
                        timeout: number, signal: AbortSignal | undefined): Promise<FetchResponse> {
  const { first, streamed, trailers } = request;
  const id = target.binding.startFetchStream(target.slot, target.gen, cluster, headers, first, timeout,
                                             streamed === undefined && trailers === undefined);
  if (streamed === undefined && trailers !== undefined) {
    target.binding.fetchStreamSendTrailers(target.slot, target.gen, id, trailers);
  }
  return new Promise<FetchResponse>((resolve, reject) => {
    const streams = target.fetchStreams();
    const pending: PendingFetch = { cluster, resolve, reject };
    streams.set(id, pending);
    const abandon = (error: Error): void => {
      if (streams.get(id) !== pending) return;
      streams.delete(id);
      if (!target.closed) target.binding.resetFetchStream(target.slot, target.gen, id);
      fail(pending, error);
    };
    signal?.addEventListener('abort', () => abandon(signal.reason as Error), { once: true });
    if (streamed !== undefined) {
      sendBody(target, id, streamed, trailers).catch((error: unknown) =>
        abandon(new FetchError(`fetch to cluster '${cluster}': the request body failed`, { cause: error })));
    }
  });
}

// The request body of a streaming fetch, piece by piece as its source yields them, then its end
// (the trailers, when there are some).
async function sendBody(target: FetchTarget, id: number, source: StreamBody, trailers: string[] | undefined):
    Promise<void> {
  for await (const piece of source as AsyncIterable<Uint8Array | string>) {
    if (!target.fetchStreams().has(id) || target.closed) return;
    target.binding.fetchStreamSendData(target.slot, target.gen, id, toBytes(piece, 'fetch() body'), false);
  }
  if (!target.fetchStreams().has(id) || target.closed) return;
  if (trailers === undefined) target.binding.fetchStreamSendData(target.slot, target.gen, id, EMPTY, true);
  else target.binding.fetchStreamSendTrailers(target.slot, target.gen, id, trailers);
}

function fail(pending: PendingFetch, error: Error): void {
  if (pending.body === undefined) pending.reject(error);
  else pending.body.error(error);
  pending.trailers?.reject(error);
}

/** The response is over: its body ends, and its trailers (none unless given) are known. */
function finish(pending: PendingFetch, trailers: Headers = new FetchedHeaders([])): void {
  closeBody(pending);
  pending.trailers?.resolve(trailers);
}

function closeBody(pending: PendingFetch): void {
  try {
    pending.body?.close();
  } catch {
    // already closed (by the last piece, or by trailers)
  }
}

/** An event of streaming fetch `id`. */
export function settleFetchStream(target: FetchTarget, id: number, event: NativeFetchStreamEvent,
                                  payload: string[] | Uint8Array | number | undefined, endStream: boolean): void {
  const streams = target.fetchStreams();
  const pending = streams.get(id);
  if (pending === undefined) return;  // aborted or cancelled meanwhile
  switch (event) {
    case FetchStreamEvent.Headers: {
      const { status, headers } = responseHead(payload as string[]);
      const body = bodyless(status) ? null : new ReadableStream<Uint8Array>({
        start: (controller) => { pending.body = controller; },
        // The reader gave up: Envoy need not deliver the rest.
        cancel: () => {
          if (streams.delete(id) && !target.closed) target.binding.resetFetchStream(target.slot, target.gen, id);
        },
      });
      let settleTrailers: PendingFetch['trailers'];
      const trailers = new Promise<Headers>((resolve, reject) => { settleTrailers = { resolve, reject }; });
      trailers.catch(() => {});  // a failed response must not count as unhandled when nobody asks for them
      pending.trailers = settleTrailers;
      pending.resolve(new FetchedResponse(status, headers, { stream: body }, pending.cluster, trailers));
      if (endStream) finish(pending);
      return;
    }
    case FetchStreamEvent.Data:
      // An empty last piece only marks the end.
      if ((payload as Uint8Array).length > 0) pending.body?.enqueue(payload as Uint8Array);
      if (endStream) finish(pending);
      return;
    case FetchStreamEvent.Trailers:
      finish(pending, responseHead(payload as string[]).headers);
      return;
    case FetchStreamEvent.Complete:
      streams.delete(id);
      finish(pending);
      return;
    default:
      streams.delete(id);
      fail(pending, new FetchError(`fetch to cluster '${pending.cluster}' failed: the upstream reset the stream ` +
                                   `(reason ${String(payload)})`));
  }
}

/** The stream is gone: every pending fetch rejects (a streaming one's body errors). */
export function abandonFetches(fetches: Map<number, PendingFetch>): void {
  MapPrototypeForEach(fetches, (pending) => {
    fail(pending, new StreamClosedError(`fetch to cluster '${pending.cluster}': the stream is closed`));
  });
  MapPrototypeClear(fetches);
}

/** Checked request headers or trailers, flat [name, value, ...] with lowercase names. */
function flatHeaders(headers: FetchInit['headers'], what: string): string[] {
  const flat: string[] = [];
  for (const [name, value] of headerEntries(headers)) {
    const key = checkHeaderName(name);
    if (key.startsWith(':')) throw new TypeError(`${what}: pseudo-header '${key}' cannot be set`);
    checkHeaderValue(key, value);
    flat.push(key, value);
  }
  return flat;
}

function headerEntries(headers: FetchInit['headers']): Iterable<readonly [string, string]> {
  if (headers === undefined) return [];
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return headers as Iterable<readonly [string, string]>;
  }
  return Object.entries(headers as Record<string, string>);
}

// Envoy's HTTP filter manager and the module's native side, in memory, over the runtime's binding:
// one stream from request headers to stream complete. Like Envoy, every piece of the request
// reaches the chain as it arrives, also while a hook is pending (the runtime holds it); a
// direction goes on once the chain continues it; a local reply is encoded through the chain's
// response hooks when sent while decoding, and replaces the response when sent while encoding.

import { HookKind, HookOutcome } from '../runtime/codes';
import type { BufferKind } from '../runtime/native';
import { bodyChunks } from './body';
import { FakeBinding, type FakeConnection, type FakeStream } from './fake-binding';
import { TestHeaders, headerPairs } from './headers';
import type { MetricStore } from './metrics';
import { SeenRequestImpl, TestResponse } from './response';
import type { ReplyInit, RequestHandler, SeenRequest, TestRequest } from './types';

const realSetImmediate = setImmediate;

/** What the in-memory Envoy needs from the chain it serves. */
export interface EnvoySide {
  readonly configId: number;
  readonly upstream: RequestHandler;
  readonly clusters: Readonly<Record<string, RequestHandler>>;
  readonly bufferLimitBytes: number;
  readonly metrics: MetricStore;
  /** Milliseconds on the chain's clock (token buckets). */
  readonly clock: () => number;
  /** The per-route config id of a path (0: none). */
  readonly routeConfigFor: (path: string) => number;
  /** Dispatcher.hookMask of the config: bit `1 << HookKind` per hook its chain has. */
  readonly hookMask: () => number;
}

type LocalReplyFields = NonNullable<FakeStream['localReply']>;

/** A SeenRequest from a flat or paired header list with pseudo-headers. */
export function seenRequest(pairs: readonly (readonly [string, string])[], body: readonly Uint8Array[],
                            trailers: readonly (readonly [string, string])[]): SeenRequest {
  const pseudo = (name: string): string => pairs.find(([n]) => n === name)?.[1] ?? '';
  const authority = pseudo(':authority');
  const headers = pairs.filter(([n]) => !n.startsWith(':'));
  if (authority !== '' && !headers.some(([n]) => n === 'host')) headers.unshift(['host', authority]);
  return new SeenRequestImpl(pseudo(':method'), pseudo(':path'), new TestHeaders(headers), body,
                             new TestHeaders(trailers));
}

function pairsOf(flat: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i] as string, flat[i + 1] as string]);
  return pairs;
}

/** A handler's answer, checked: status, header pairs, body chunks, trailer pairs. */
export async function answerOf(handler: RequestHandler, request: SeenRequest, who: string):
    Promise<{ status: number; headers: [string, string][]; chunks: Uint8Array[]; trailers: [string, string][] }> {
  const reply: ReplyInit = await handler(request);
  if (typeof reply !== 'object' || reply === null) {
    throw new TypeError(`envoy-ts/testing: the ${who} handler must return {status?, headers?, body?, trailers?}`);
  }
  const status = reply.status ?? 200;
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new TypeError(`envoy-ts/testing: the ${who} handler returned status ${String(status)} (100-599)`);
  }
  return { status, headers: headerPairs(reply.headers, `the ${who} handler's headers`),
           chunks: bodyChunks(reply.body, `the ${who} handler's body`),
           trailers: headerPairs(reply.trailers, `the ${who} handler's trailers`) };
}

/** The in-memory Envoy: the runtime's binding plus what Envoy does around the module. */
export class EnvoyBinding extends FakeBinding {
  readonly #side: EnvoySide;
  readonly #exchanges = new Map<number, HttpExchange>();
  /** Connections by slot, with what happens when the runtime asks to resume one. */
  readonly connectionResumes = new Map<number, () => void>();

  constructor(side: EnvoySide) {
    super(false);
    this.#side = side;
  }

  get side(): EnvoySide {
    return this.#side;
  }

  track(exchange: HttpExchange): void {
    this.#exchanges.set(exchange.stream.slot, exchange);
  }

  untrack(exchange: HttpExchange): void {
    this.#exchanges.delete(exchange.stream.slot);
  }

  protected override replySent(stream: FakeStream, reply: LocalReplyFields): void {
    this.#exchanges.get(stream.slot)?.localReply(reply);
  }

  protected override resumeWanted(slot: number, gen: number): void {
    // Envoy runs the stream's scheduled callback in a later iteration of the worker's loop.
    const exchange = this.#exchanges.get(slot);
    if (exchange !== undefined && exchange.stream.gen === gen) realSetImmediate(() => exchange.resumed());
    const resumeConnection = this.connectionResumes.get(slot);
    if (resumeConnection !== undefined) realSetImmediate(resumeConnection);
  }

  protected override hasCluster(cluster: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.#side.clusters, cluster);
  }

  protected override calloutStarted(callout: FakeBinding['callouts'][number]): void {
    const exchange = this.#exchanges.get(callout.slot);
    if (exchange === undefined) return;
    const request = seenRequest(pairsOf(callout.headers), [Buffer.from(callout.body)], []);
    this.#answer(callout.cluster, request).then((answer) => {
      if (answer === undefined) {
        this.answerCallout(exchange.stream, callout.id, 1);
        return;
      }
      const headers = [':status', String(answer.status), ...answer.headers.flat()];
      this.answerCallout(exchange.stream, callout.id, 0, headers, Buffer.concat(answer.chunks));
    }, () => undefined);
  }

  protected override fetchRequestEnded(fetch: FakeBinding['fetchStreams'][number]): void {
    const exchange = this.#exchanges.get(fetch.slot);
    if (exchange === undefined) return;
    const request = seenRequest(pairsOf(fetch.headers), fetch.sent.map((piece) => Buffer.from(piece)),
                                pairsOf(fetch.trailers ?? []));
    this.#answer(fetch.cluster, request).then((answer) => {
      const { stream } = exchange;
      if (answer === undefined) {
        this.fetchStreamEvent(stream, fetch.id, 4, 0);
        return;
      }
      const ends = (last: boolean): boolean => last && answer.trailers.length === 0;
      this.fetchStreamEvent(stream, fetch.id, 0, [':status', String(answer.status), ...answer.headers.flat()],
                            ends(answer.chunks.length === 0));
      answer.chunks.forEach((chunk, i) => this.fetchStreamEvent(stream, fetch.id, 1, chunk, ends(i === answer.chunks.length - 1)));
      if (answer.trailers.length > 0) this.fetchStreamEvent(stream, fetch.id, 2, answer.trailers.flat(), true);
      this.fetchStreamEvent(stream, fetch.id, 3);
    }, () => undefined);
  }

  // A cluster's answer, delivered in a later loop iteration like a real callout's; a handler that
  // throws is a reset (undefined), as when the cluster's host fails.
  async #answer(cluster: string, request: SeenRequest): Promise<Awaited<ReturnType<typeof answerOf>> | undefined> {
    const handler = this.#side.clusters[cluster] as RequestHandler;
    try {
      const answer = await answerOf(handler, request, `cluster '${cluster}'`);
      await new Promise((resolve) => realSetImmediate(resolve));
      return answer;
    } catch (error) {
      this.log(4, `[envoy-ts/testing] the handler of cluster '${cluster}' threw (the callout is reset): ${String(error)}`);
      return undefined;
    }
  }

  protected override metricRecorded(target: FakeStream | FakeConnection, record: FakeStream['metrics'][number]): void {
    super.metricRecorded(target, record);
    const [index, op, value, labels] = record;
    this.#side.metrics.record(index, op, value, labels);
  }

  override sharedTokensTake(key: string, ratePerSecond: number, burst: number, cost: number): number {
    this.nowMs = this.#side.clock();
    return super.sharedTokensTake(key, ratePerSecond, burst, cost);
  }
}

/** One HTTP stream through the chain, driven like Envoy's filter manager drives a filter. */
export class HttpExchange {
  readonly stream: FakeStream;
  readonly #binding: EnvoyBinding;
  readonly #routeConfigId: number;
  /** Per direction: the chain holds it (its last outcome was not Continue). */
  readonly #stopped: [boolean, boolean] = [false, false];
  /** Per direction: over without going on (request: a local reply; response: replaced by one). */
  readonly #aborted: [boolean, boolean] = [false, false];
  #encodeStarted = false;
  #pendingDirection: BufferKind = 0;
  #waiters: (() => void)[] = [];
  #complete = false;
  /** Per direction: the body as it went on, one piece per continue. */
  readonly #pieces: [Uint8Array[], Uint8Array[]] = [[], []];
  #requestWentOn = false;

  constructor(binding: EnvoyBinding, request: TestRequest) {
    this.#binding = binding;
    const path = request.path ?? '/';
    const headers = headerPairs(request.headers, 'request headers');
    const authority = headers.find(([n]) => n === 'host')?.[1] ?? 'localhost';
    const pseudo: [string, string][] = [[':method', request.method ?? 'GET'], [':path', path],
                                        [':authority', authority], [':scheme', 'http']];
    this.stream = binding.openStream(binding.side.configId, [...pseudo, ...headers.filter(([n]) => n !== 'host')]);
    this.#routeConfigId = binding.side.routeConfigFor(path);
    binding.track(this);
  }

  /** Run the request to its end; resolves with what the client got. */
  async run(request: TestRequest): Promise<TestResponse> {
    const chunks = bodyChunks(request.body, 'request body');
    const trailers = headerPairs(request.trailers, 'request trailers');
    const { signal } = request;
    let upstreamRequest: SeenRequest | null = null;
    // The client went away: Envoy resets the stream (its filters see it destroyed).
    const disconnect = (): void => {
      this.#aborted[0] = this.#aborted[1] = true;
      this.#wake();
    };
    signal?.throwIfAborted();
    signal?.addEventListener('abort', disconnect, { once: true });
    try {
      this.#deliver(0, chunks, trailers);
      await this.#until(() => this.#aborted[0] || !this.#stopped[0]);
      signal?.throwIfAborted();
      const { stream } = this;
      // The router started upstream once the request headers went on: a local reply after that
      // resets the upstream request, which saw what had gone on by then.
      if (this.#requestWentOn) upstreamRequest = seenRequest(stream.maps[0] ?? [], this.#pieces[0], stream.maps[1] ?? []);
      if (!this.#aborted[0] && upstreamRequest !== null) {
        const answer = await answerOf(this.#binding.side.upstream, upstreamRequest, 'upstream');
        if (!this.#encodeStarted && !this.#aborted[1]) {
          this.#encodeStarted = true;
          stream.maps[2] = [[':status', String(answer.status)], ...answer.headers];
          this.#deliver(1, answer.chunks, answer.trailers);
        }
      }
      await this.#until(() => this.#aborted[1] || !this.#stopped[1]);
      signal?.throwIfAborted();
      return this.#response(upstreamRequest);
    } finally {
      signal?.removeEventListener('abort', disconnect);
      this.#finish();
    }
  }

  /** The runtime sent a local reply (or Envoy did, e.g. a 413). */
  localReply(reply: LocalReplyFields): void {
    const { stream } = this;
    stream.localReply = reply;
    const headers: [string, string][] = [[':status', String(reply.status)], ...pairsOf(reply.headers)];
    const body = Buffer.from(reply.body);
    headers.push(['content-length', String(body.length)]);
    if (body.length > 0 && !headers.some(([n]) => n === 'content-type')) headers.push(['content-type', 'text/plain']);
    this.#aborted[0] = true;
    stream.maps[2] = headers;
    stream.bodies[1].length = 0;
    if (this.#encodeStarted) {
      // Sent while encoding: the reply replaces the response, bypassing the chain.
      this.#aborted[1] = true;
      stream.passed[1] = body.toString('latin1');
      this.#wake();
      return;
    }
    this.#encodeStarted = true;
    this.#deliver(1, body.length > 0 ? [body] : [], []);
  }

  /** The stream's scheduled callback: apply what the settled hook decided. */
  resumed(): void {
    if (this.#complete) return;
    this.#outcome(this.#pendingDirection, this.#binding.resume(this.stream));
  }

  // Headers, then each chunk, then trailers of one direction, each handed over as it arrives.
  #deliver(direction: BufferKind, chunks: readonly Uint8Array[], trailers: readonly [string, string][]): void {
    const { stream } = this;
    const ends = (last: boolean): boolean => last && trailers.length === 0;
    const headersHook = direction === 0 ? HookKind.RequestHeaders : HookKind.ResponseHeaders;
    this.#outcome(direction, this.#binding.hook(stream, headersHook, ends(chunks.length === 0),
                                                direction === 0 ? this.#routeConfigId : 0));
    for (let i = 0; i < chunks.length && !this.#aborted[direction]; i++) {
      this.#body(direction, chunks[i] as Uint8Array, ends(i === chunks.length - 1));
    }
    if (trailers.length > 0 && !this.#aborted[direction]) {
      stream.maps[direction === 0 ? 1 : 3] = [...trailers];
      const trailersHook = direction === 0 ? HookKind.RequestTrailers : HookKind.ResponseTrailers;
      this.#outcome(direction, this.#binding.hook(stream, trailersHook, true));
    }
  }

  #body(direction: BufferKind, chunk: Uint8Array, endOfStream: boolean): void {
    const { stream } = this;
    stream.bodies[direction].push(Buffer.from(chunk));
    // Like the native side: without body hooks, nothing held and no whole-body read, a chunk
    // goes on without a call into JavaScript.
    const hooksBit = 1 << (direction === 0 ? HookKind.RequestBody : HookKind.ResponseBody);
    if ((this.#binding.side.hookMask() & hooksBit) === 0 && !this.#stopped[direction] && !stream.wholeBody[direction]) {
      this.#passOn(direction);
      return;
    }
    this.#outcome(direction, this.#binding.hook(stream, direction === 0 ? HookKind.RequestBody : HookKind.ResponseBody,
                                                endOfStream));
    // Envoy buffers a body held for a whole-body read up to the buffer limit, then answers
    // 413 (request) or 500 (response).
    const held = stream.bodies[direction].reduce((n, c) => n + c.length, 0);
    if (this.#stopped[direction] && !this.#aborted[direction] && stream.wholeBody[direction] &&
        held > this.#binding.side.bufferLimitBytes) {
      this.localReply(direction === 0
        ? { status: 413, headers: [], body: 'Payload Too Large', details: 'request_payload_too_large' }
        : { status: 500, headers: [], body: 'Internal Server Error', details: 'response_payload_too_large' });
    }
  }

  #outcome(direction: BufferKind, outcome: number): void {
    if (!this.#aborted[direction]) {
      if (outcome === HookOutcome.Continue) {
        this.#stopped[direction] = false;
        this.#passOn(direction);
      } else {
        this.#stopped[direction] = true;
        if (outcome === HookOutcome.Pending) this.#pendingDirection = direction;
      }
    }
    this.#wake();
  }

  #passOn(direction: BufferKind): void {
    if (direction === 0) this.#requestWentOn = true;
    const before = this.stream.passed[direction].length;
    this.#binding.passOn(this.stream, direction);
    const piece = this.stream.passed[direction].slice(before);
    if (piece !== '') this.#pieces[direction].push(Buffer.from(piece, 'latin1'));
  }

  #until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (!done()) return;
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve();
      };
      this.#waiters.push(check);
    });
  }

  #wake(): void {
    for (const check of [...this.#waiters]) check();
  }

  #response(upstreamRequest: SeenRequest | null): TestResponse {
    const { stream } = this;
    const headers = stream.maps[2] ?? [];
    const reply = stream.localReply;
    return new TestResponse({
      status: Number(headers.find(([n]) => n === ':status')?.[1] ?? 0),
      headers: new TestHeaders(headers.filter(([n]) => !n.startsWith(':'))),
      body: Buffer.from(stream.passed[1], 'latin1'),
      trailers: new TestHeaders(this.#aborted[1] ? [] : stream.maps[3] ?? []),
      localReply: reply !== undefined,
      details: reply?.details ?? null,
      upstreamRequest,
    });
  }

  // The stream is over (or the test's handler failed): its end-of-stream hooks and stats, then gone.
  #finish(): void {
    if (this.#complete) return;
    this.#complete = true;
    this.#binding.hook(this.stream, HookKind.StreamComplete);
    this.#binding.destroy(this.stream);
    this.#binding.untrack(this);
  }
}

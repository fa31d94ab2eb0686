// The Response ctx.fetch resolves with: the standard Response API (status, ok, headers, body,
// bodyUsed, text(), json(), arrayBuffer(), bytes(), blob(), formData(), clone()) over what Envoy
// handed over — the status, the flat header list and the body's bytes, or for a streaming fetch a
// ReadableStream of its pieces — built lazily rather than through undici: the header list is
// searched where it lies (sorted and combined only when iterated), a buffered body becomes a
// ReadableStream only when `body` is read, and text()/json() decode the bytes at once. As a
// fetch() response's, its headers are immutable.

import { Readable } from 'stream';
import { TextDecoder } from 'util';

import { FetchError } from '../api/errors';
import type { FetchResponse } from '../api/types';

/** An RFC 7230 token: what a header name or a method is. */
export const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const EMPTY = new Uint8Array(0);

let utf8: TextDecoder | undefined;
/** UTF-8 decode as the fetch standard does (a leading BOM dropped, bad bytes replaced). */
function decodeUtf8(bytes: Uint8Array): string {
  utf8 ??= new TextDecoder();
  return utf8.decode(bytes);
}

/** Response headers or trailers over a flat [name, value, ...] list (lowercase names, no
 *  pseudo-headers), with the standard Headers API; read-only. */
export class FetchedHeaders implements Headers {
  readonly #fields: readonly string[];
  // The standard's "sort and combine" of the fields, for iteration: built on first use.
  #sorted: [string, string][] | undefined;

  constructor(fields: readonly string[]) {
    this.#fields = fields;
  }

  get(name: string): string | null {
    const key = lowerName(name);
    let found: string | null = null;
    for (let i = 0; i < this.#fields.length; i += 2) {
      if (this.#fields[i] === key) {
        found = found === null ? this.#fields[i + 1] as string : `${found}, ${this.#fields[i + 1] as string}`;
      }
    }
    if (found === null) checkName(key, 'get');
    return found;
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }

  getSetCookie(): string[] {
    const cookies: string[] = [];
    for (let i = 0; i < this.#fields.length; i += 2) {
      if (this.#fields[i] === 'set-cookie') cookies.push(this.#fields[i + 1] as string);
    }
    return cookies;
  }

  forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    for (const [name, value] of this.#sortedFields()) callback.call(thisArg, value, name, this);
  }

  entries(): IterableIterator<[string, string]> {
    return this.#sortedFields().map(([name, value]): [string, string] => [name, value])[Symbol.iterator]();
  }

  keys(): IterableIterator<string> {
    return this.#sortedFields().map(([name]) => name)[Symbol.iterator]();
  }

  values(): IterableIterator<string> {
    return this.#sortedFields().map(([, value]) => value)[Symbol.iterator]();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  append(_name: string, _value: string): void {
    immutable('append');
  }

  set(_name: string, _value: string): void {
    immutable('set');
  }

  delete(_name: string): void {
    immutable('delete');
  }

  get [Symbol.toStringTag](): string {
    return 'Headers';
  }

  // Names in order, the values of a repeated name joined by ", " — except set-cookie's, one
  // entry each.
  #sortedFields(): [string, string][] {
    if (this.#sorted !== undefined) return this.#sorted;
    const names = [...new Set(this.#fields.filter((_, i) => i % 2 === 0))].sort();
    const sorted: [string, string][] = [];
    for (const name of names) {
      if (name === 'set-cookie') {
        for (const cookie of this.getSetCookie()) sorted.push([name, cookie]);
      } else {
        sorted.push([name, this.get(name) as string]);
      }
    }
    this.#sorted = sorted;
    return sorted;
  }
}

function lowerName(name: string): string {
  return String(name).toLowerCase();
}

function checkName(name: string, method: string): void {
  if (HTTP_TOKEN.exec(name) === null) throw new TypeError(`Headers.${method}: invalid header name ${JSON.stringify(name)}`);
}

function immutable(method: string): never {
  throw new TypeError(`Headers.${method}: the headers of a fetch() response are immutable ` +
                      '(copy them first: new Headers(response.headers))');
}

/** A response's body: the bytes Envoy buffered, or a streaming fetch's pieces; null: none. */
export type FetchedBody = { readonly bytes: Uint8Array | null } | { readonly stream: ReadableStream<Uint8Array> | null };

/** A ctx.fetch response. */
export class FetchedResponse implements FetchResponse {
  readonly status: number;
  readonly statusText = '';
  readonly headers: FetchedHeaders;
  readonly type = 'default';
  readonly url = '';
  readonly redirected = false;
  readonly #cluster: string;
  readonly #trailers: Promise<Headers> | undefined;
  readonly #hasBody: boolean;
  // A buffered body's bytes, until it is read or becomes #stream (then null).
  #bytes: Uint8Array | null;
  // The body as a stream: a streaming fetch's, or made from #bytes when `body` is first read.
  #stream: ReadableStream<Uint8Array> | null;
  // The body was read from #bytes, without a stream.
  #used = false;

  /** `trailers`: a streaming fetch's; a buffered one has none to give (`trailers` rejects). */
  constructor(status: number, headers: FetchedHeaders, body: FetchedBody, cluster: string,
              trailers?: Promise<Headers>) {
    this.status = status;
    this.headers = headers;
    this.#cluster = cluster;
    this.#trailers = trailers;
    this.#bytes = 'bytes' in body ? body.bytes : null;
    this.#stream = 'stream' in body ? body.stream : null;
    this.#hasBody = this.#bytes !== null || this.#stream !== null;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }

  get trailers(): Promise<Headers> {
    return this.#trailers ?? Promise.reject(new FetchError(
      `fetch to cluster '${this.#cluster}': Envoy's buffered callout does not hand trailers over; fetch with ` +
      '{ stream: true } to get them'));
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.#hasBody && this.#stream === null) {
      // Read before anyone asked for the stream, the standard's would be disturbed and locked.
      this.#stream = this.#used ? readStream() : streamOf(this.#bytes as Uint8Array);
      this.#bytes = null;
    }
    return this.#stream;
  }

  get bodyUsed(): boolean {
    return this.#used || (this.#stream !== null && isDisturbed(this.#stream));
  }

  text(): Promise<string> {
    return this.#consume('text', decodeUtf8);
  }

  json(): Promise<unknown> {
    return this.#consume('json', (bytes) => JSON.parse(decodeUtf8(bytes)) as unknown);
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#consume('arrayBuffer', (bytes) => copyOf(bytes).buffer);
  }

  bytes(): Promise<Uint8Array> {
    return this.#consume('bytes', copyOf);
  }

  blob(): Promise<Blob> {
    return this.#consume('blob', (bytes) => new Blob([bytes], { type: this.headers.get('content-type') ?? '' }));
  }

  formData(): Promise<FormData> {
    // Rare enough to leave to undici's multipart and urlencoded parsers.
    return this.#consume('formData', (bytes) => bytes).then((bytes) => {
      const type = this.headers.get('content-type');
      return new Response(bytes, { headers: type === null ? [] : [['content-type', type]] }).formData();
    });
  }

  clone(): FetchedResponse {
    if (this.bodyUsed) throw new TypeError('Response.clone: the body has already been read');
    if (this.#stream === null) {
      return new FetchedResponse(this.status, this.headers, { bytes: this.#bytes }, this.#cluster, this.#trailers);
    }
    const [mine, theirs] = this.#stream.tee();
    this.#stream = mine;
    return new FetchedResponse(this.status, this.headers, { stream: theirs }, this.#cluster, this.#trailers);
  }

  get [Symbol.toStringTag](): string {
    return 'Response';
  }

  // The whole body (through #stream if there is one), converted; rejects if it was read before.
  #consume<T>(method: string, convert: (bytes: Uint8Array) => T): Promise<T> {
    if (this.bodyUsed || this.#stream?.locked === true) {
      return Promise.reject(new TypeError(`Response.${method}: the body has already been read`));
    }
    if (this.#stream !== null) return readAll(this.#stream).then(convert);
    const bytes = this.#bytes ?? EMPTY;
    if (this.#hasBody) {
      this.#bytes = null;
      this.#used = true;
    }
    try {
      return Promise.resolve(convert(bytes));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** Whether a web stream was read from or cancelled (Node's Readable.isDisturbed reads web streams
 *  too, though its declaration names Node streams only). */
function isDisturbed(stream: ReadableStream<Uint8Array>): boolean {
  return Readable.isDisturbed(stream as unknown as Readable);
}

/** A Uint8Array of its own holding `bytes` (which may be a Buffer, whose slice() is a view). */
function copyOf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/** A ReadableStream of `bytes` (its own copy: the reader may keep and change it). */
function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.length > 0) controller.enqueue(copyOf(bytes));
      controller.close();
    },
  });
}

/** A stream already read to its end: disturbed, and locked to a reader. */
function readStream(): ReadableStream<Uint8Array> {
  const stream = streamOf(EMPTY);
  void stream.getReader().read();
  return stream;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = stream.getReader();
  const pieces: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    pieces.push(value);
    length += value.length;
  }
  if (pieces.length === 1) return pieces[0] as Uint8Array;
  const whole = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    whole.set(piece, offset);
    offset += piece.length;
  }
  return whole;
}

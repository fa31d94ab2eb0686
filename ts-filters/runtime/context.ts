// HttpFilterContext: one per filter per stream, created on the filter's first hook.

import { InvalidStateError, NotInHookError, StreamClosedError } from '../api/errors';
import type { HeaderMap, HttpFilterContext, LocalReplyInit, Logger } from '../api/types';
import { DEFAULT_REPLY_DETAILS, HookKind } from './codes';
import type { LoadedHttpFilter } from './config';
import { checkHeaderName, checkHeaderValue } from './header-map';
import type { LocalReply, StreamState } from './stream';

const DETAILS = /^[\x21-\x7e]+$/;

export class FilterContext implements HttpFilterContext<unknown> {
  readonly #stream: StreamState;
  readonly #filter: LoadedHttpFilter;

  constructor(stream: StreamState, filter: LoadedHttpFilter) {
    this.#stream = stream;
    this.#filter = filter;
  }

  get config(): unknown {
    return this.#filter.config;
  }

  get filterName(): string {
    return this.#filter.name;
  }

  get requestHeaders(): HeaderMap {
    return this.#stream.requestHeaders;
  }

  get responseHeaders(): HeaderMap {
    const stream = this.#stream;
    if (stream.phase !== HookKind.ResponseHeaders) {
      throw new InvalidStateError('responseHeaders is only available in the response phase');
    }
    return stream.responseHeaderMap();
  }

  get endOfStream(): boolean {
    return this.#stream.endOfStream;
  }

  get log(): Logger {
    return this.#filter.log;
  }

  get signal(): AbortSignal {
    return this.#stream.signal;
  }

  respond(status: number, init?: LocalReplyInit): void {
    const stream = this.#stream;
    if (stream.closed) throw new StreamClosedError('respond(): the stream is closed');
    if (stream.replied || stream.reply !== undefined) {
      throw new InvalidStateError('respond(): a local reply was already requested for this stream');
    }
    if (!stream.inHook && stream.pending?.link.filter !== this.#filter) {
      throw new NotInHookError(
        `respond(): filter '${this.#filter.name}' has no running or pending hook on this stream`);
    }
    stream.reply = buildReply(status, init);
  }
}

function buildReply(status: number, init: LocalReplyInit | undefined): LocalReply {
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new RangeError(
      `respond(): status must be an integer in 200-599 (a final response), got ${String(status)}`);
  }
  const headers: string[] = [];
  const body = init?.body ?? '';
  if (typeof body !== 'string') throw new TypeError('respond(): body must be a string');
  const details = init?.details ?? DEFAULT_REPLY_DETAILS;
  if (typeof details !== 'string' || !DETAILS.test(details)) {
    throw new TypeError(
      `respond(): details must be a non-empty string of visible ASCII characters (no spaces), ` +
      `got ${JSON.stringify(details)}`);
  }
  const given = init?.headers;
  if (given !== undefined) {
    if (Array.isArray(given)) {
      for (const pair of given as ReadonlyArray<readonly [string, string]>) {
        if (!Array.isArray(pair) || pair.length !== 2) {
          throw new TypeError('respond(): headers must be [name, value] pairs');
        }
        const name = checkReplyHeaderName(pair[0]);
        headers.push(name, checkHeaderValue(name, pair[1]));
      }
    } else if (typeof given === 'object' && given !== null) {
      const record = given as Readonly<Record<string, string>>;
      for (const key of Object.keys(record)) {
        const name = checkReplyHeaderName(key);
        headers.push(name, checkHeaderValue(name, record[key]));
      }
    } else {
      throw new TypeError('respond(): headers must be a record or a list of [name, value] pairs');
    }
  }
  return { status, headers, body, details };
}

function checkReplyHeaderName(name: unknown): string {
  const key = checkHeaderName(name);
  if (key.startsWith(':')) {
    throw new TypeError(`respond(): pseudo-header '${key}' cannot be set on a local reply`);
  }
  return key;
}

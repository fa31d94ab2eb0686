// What the client got, and what the upstream saw.

import { TestHeaders } from './headers';
import type { SeenRequest } from './types';

/** A request that reached the upstream or a cluster. */
export class SeenRequestImpl implements SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: TestHeaders;
  readonly body: Uint8Array;
  readonly bodyPieces: readonly Uint8Array[];
  readonly trailers: TestHeaders;

  constructor(method: string, path: string, headers: TestHeaders, pieces: readonly Uint8Array[], trailers: TestHeaders) {
    this.method = method;
    this.path = path;
    this.headers = headers;
    this.bodyPieces = pieces.filter((piece) => piece.length > 0);
    this.body = Buffer.concat(this.bodyPieces);
    this.trailers = trailers;
  }

  text(): string {
    return Buffer.from(this.body).toString('utf8');
  }

  json(): unknown {
    return JSON.parse(this.text());
  }
}

/** The response the client received. */
export class TestResponse {
  readonly status: number;
  readonly headers: TestHeaders;
  readonly body: Uint8Array;
  readonly trailers: TestHeaders;
  /** True when a filter (or Envoy itself, e.g. a 413) answered: the upstream's response did not reach the client. */
  readonly localReply: boolean;
  /**
   * Envoy's response code details of a local reply (e.g. 'envoy_ts_local_reply'), or null. In-process
   * engine only (Envoy does not send them to the client): always null under the host engine.
   */
  readonly details: string | null;
  /** What the upstream received, or null when the request never reached it (a local reply sent before
   *  the request headers went on). A local reply after they went on resets the upstream request: it
   *  holds what had gone on by then. */
  readonly upstreamRequest: SeenRequest | null;

  constructor(fields: { status: number; headers: TestHeaders; body: Uint8Array; trailers: TestHeaders;
                        localReply: boolean; details: string | null; upstreamRequest: SeenRequest | null }) {
    this.status = fields.status;
    this.headers = fields.headers;
    this.body = fields.body;
    this.trailers = fields.trailers;
    this.localReply = fields.localReply;
    this.details = fields.details;
    this.upstreamRequest = fields.upstreamRequest;
  }

  text(): string {
    return Buffer.from(this.body).toString('utf8');
  }

  json(): unknown {
    return JSON.parse(this.text());
  }
}

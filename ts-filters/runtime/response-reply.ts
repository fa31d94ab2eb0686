// A Response returned by a hook (or its promise) becomes the stream's local reply, as if the
// filter had called ctx.respond() with its status, headers and body.

import type { HttpFilterContext, LocalReplyInit } from '../api/types';
import { ObjectPrototypeToString } from './primordials';

/** Whether a hook's result (or what its promise resolved to) is a fetch-standard Response. */
// By its tag, not `instanceof Response`: reading the Response global makes Node load undici (and
// compile its WebAssembly parser), which a chain that never touches fetch should not pay for.
export function isResponse(value: unknown): value is Response {
  return typeof value === 'object' && value !== null && ObjectPrototypeToString(value) === '[object Response]';
}

/**
 * Request the local reply `response` describes: at once when it has no body, otherwise once the
 * body is read (the returned promise; the stream stays held until then).
 */
export function respondWith(ctx: HttpFilterContext<unknown>, response: Response): void | Promise<void> {
  if (response.body === null) {
    ctx.respond(response.status, replyInit(response, ''));
    return undefined;
  }
  return response.arrayBuffer().then((buffer) => {
    ctx.respond(response.status, replyInit(response, new Uint8Array(buffer)));
  });
}

function replyInit(response: Response, body: string | Uint8Array): LocalReplyInit {
  const headers: [string, string][] = [];
  // Headers without getSetCookie (Node 18's) iterate several set-cookie values joined into one.
  const cookies = typeof response.headers.getSetCookie === 'function' ? response.headers.getSetCookie() : null;
  for (const [name, value] of response.headers) {
    // Envoy sets content-length for the body it sends.
    if (name === 'content-length' || (name === 'set-cookie' && cookies !== null)) continue;
    headers.push([name, value]);
  }
  for (const cookie of cookies ?? []) headers.push(['set-cookie', cookie]);
  return { headers, body };
}

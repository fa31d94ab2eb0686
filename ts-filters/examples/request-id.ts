// request-id: give every request an x-request-id (keeping one the client sent) and echo it on the
// response, local replies included.

import { randomUUID } from 'node:crypto';

import { defineHttpFilter, type HttpFilter } from 'envoy-ts';

const HEADER = 'x-request-id';

/** Sets x-request-id on requests without one; echoes the request's value on the response. */
export const requestId: HttpFilter = defineHttpFilter({
  name: 'request-id',
  onRequestHeaders(headers) {
    if (!headers.has(HEADER)) headers.set(HEADER, randomUUID());
  },
  onResponseHeaders(headers, ctx) {
    const id = ctx.requestHeaders.get(HEADER);
    if (id !== null) headers.set(HEADER, id);
  },
});

// greeting: answers GET /hello itself, and stamps a header on every response that passes.

import { defineHttpFilter } from 'envoy-ts';

export const greeting = defineHttpFilter({
  name: 'greeting',
  // Checked when Envoy loads the config (a bad one is rejected, naming the field); the defaults
  // fill in, and ctx.config's type follows from the schema.
  configSchema: {
    type: 'object',
    properties: {
      message: { type: 'string', default: 'hello from envoy-ts' },
      header: { type: 'string', default: 'x-greeting' },
    },
    additionalProperties: false,
  } as const,
  metrics: { greeted: 'counter' },
  onRequestHeaders(headers, ctx) {
    if (headers.get(':method') === 'GET' && headers.get(':path') === '/hello') {
      ctx.metrics.increment('greeted');
      ctx.respond(200, { headers: { 'content-type': 'text/plain' }, body: `${ctx.config.message}\n` });
    }
  },
  onResponseHeaders(headers, ctx) {
    headers.set(ctx.config.header, ctx.config.message);
  },
});

// Small filters the kit's tests run: each shows one behaviour of the runtime through the kit.

import { setTimeout as sleep } from 'node:timers/promises';

import { defineHttpFilter } from '../../api';

/** Throws on /throw, rejects on /reject, returns a Response on /teapot; else tags the request. */
export const behaviours = defineHttpFilter({
  name: 'behaviours',
  configSchema: {
    type: 'object',
    properties: { tag: { type: 'string', default: 'default-tag' } },
    additionalProperties: false,
  },
  metrics: { seen: { kind: 'counter', labels: ['method'] }, sizes: 'histogram' },
  onRequestHeaders(headers, ctx) {
    const config = ctx.config as unknown as { tag: string };
    const path = headers.get(':path') ?? '';
    ctx.metrics.increment('seen', 1, { method: headers.get(':method') ?? '' });
    ctx.log.info(`saw ${path}`);
    if (path === '/throw') throw new Error('boom');
    if (path === '/reject') return Promise.reject(new Error('async boom'));
    if (path === '/teapot') return new Response('short and stout', { status: 418, headers: { 'x-pot': 'yes' } });
    headers.set('x-tag', config.tag);
    return undefined;
  },
});

/** Upper-cases the request body chunk by chunk and counts chunk sizes. */
export const shout = defineHttpFilter({
  name: 'shout',
  metrics: { chunk: 'histogram' },
  onRequestHeaders(headers) {
    headers.delete('content-length');
  },
  onRequestBody(body, ctx) {
    ctx.metrics.record('chunk', body.length);
    const text = body.text().toUpperCase();
    body.replace(text);
  },
});

/** Reads the whole request body and answers with its length. */
export const measure = defineHttpFilter({
  name: 'measure',
  async onRequestHeaders(_headers, ctx) {
    const body = await ctx.requestBody.bytes();
    ctx.respond(200, { body: `length ${body.length}` });
  },
});

/** Asks cluster `authz` (or the cluster named by x-cluster) and forwards its verdict. */
export const askAuthz = defineHttpFilter({
  name: 'ask-authz',
  async onRequestHeaders(headers, ctx) {
    const cluster = headers.get('x-cluster') ?? 'authz';
    const answer = await ctx.fetch(`http://${cluster}/check`, { method: 'POST', body: headers.get(':path') ?? '' });
    headers.set('x-authz', `${answer.status} ${await answer.text()}`);
  },
});

/** Waits 1 s (on whatever clock the timers run), then continues. */
export const slow = defineHttpFilter({
  name: 'slow',
  async onRequestHeaders(headers) {
    await sleep(1000);
    headers.set('x-waited', 'yes');
  },
});

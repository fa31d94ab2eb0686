// body-rewrite: redacts fields of JSON responses as they stream through, without buffering the
// body. Each chunk is rewritten in place; a token cut by a chunk boundary is held back until the
// next chunk completes it. Values of the named fields (strings, numbers, booleans, null) become
// "[redacted]"; objects and arrays under a named field are kept and scanned further.

import { defineHttpFilter, type HttpFilter } from 'envoy-ts';

export interface BodyRewriteConfig {
  /** Field names whose values are redacted, wherever they appear. */
  readonly fields: readonly string[];
  /** The text that replaces a redacted value (as a JSON string). Default "[redacted]". */
  readonly replacement: string;
}

const REPLACEMENT = '[redacted]';

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/** Incremental JSON field redaction over byte chunks (one instance per response). */
export class JsonRedactor {
  readonly #fields: ReadonlySet<string>;
  readonly #replacement: string;
  readonly #decoder = new TextDecoder('utf-8');
  #state: 'between' | 'string' | 'string-escape' | 'after-string' | 'redact-string' | 'redact-escape' |
    'redact-scalar' = 'between';
  // A string (and the whitespace after it) not sent yet: it is a key if a ':' follows.
  #held = '';
  #string = '';
  // A key naming a redacted field was read: its value is redacted.
  #redactNext = false;

  constructor(fields: Iterable<string>, replacement = REPLACEMENT) {
    this.#fields = new Set(fields);
    this.#replacement = JSON.stringify(replacement);
  }

  /** Rewrite the next chunk; returns what can be sent now. */
  push(bytes: Uint8Array): string {
    return this.#scan(this.#decoder.decode(bytes, { stream: true }));
  }

  /** The body ended: returns what was held back. */
  end(): string {
    let out = this.#scan(this.#decoder.decode());
    if (this.#state === 'redact-scalar') out += this.#replacement;
    else if (this.#state !== 'redact-string' && this.#state !== 'redact-escape') out += this.#held;
    this.#held = '';
    this.#state = 'between';
    return out;
  }

  #scan(text: string): string {
    let out = '';
    for (const char of text) {
      switch (this.#state) {
        case 'between':
          if (this.#redactNext && !WHITESPACE.has(char) && char !== ':') {
            this.#redactNext = false;
            if (char === '"') this.#state = 'redact-string';
            else if (char === '{' || char === '[') out += char;  // kept; their fields are scanned too
            else this.#state = 'redact-scalar';
          } else if (char === '"') {
            this.#state = 'string';
            this.#held = char;
          } else {
            out += char;
          }
          break;
        case 'string':
          this.#held += char;
          if (char === '\\') this.#state = 'string-escape';
          else if (char === '"') {
            this.#state = 'after-string';
            this.#string = this.#held;
          }
          break;
        case 'string-escape':
          this.#held += char;
          this.#state = 'string';
          break;
        case 'after-string':
          if (WHITESPACE.has(char)) {
            this.#held += char;
            break;
          }
          out += this.#held;
          this.#held = '';
          this.#state = 'between';
          if (char === ':') this.#redactNext = this.#fields.has(keyOf(this.#string));
          if (char === '"') {
            this.#state = 'string';
            this.#held = char;
          } else {
            out += char;
          }
          break;
        case 'redact-string':
          if (char === '\\') this.#state = 'redact-escape';
          else if (char === '"') {
            out += this.#replacement;
            this.#state = 'between';
          }
          break;
        case 'redact-escape':
          this.#state = 'redact-string';
          break;
        case 'redact-scalar':
          // A number, true, false or null ends at a delimiter.
          if (char === ',' || char === '}' || char === ']' || WHITESPACE.has(char)) {
            out += this.#replacement + char;
            this.#state = 'between';
          }
          break;
      }
    }
    return out;
  }
}

function keyOf(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return '';
  }
}

const redactors = new WeakMap<object, JsonRedactor>();

export const bodyRewrite: HttpFilter<BodyRewriteConfig> = defineHttpFilter<BodyRewriteConfig>({
  name: 'body-rewrite',
  configSchema: {
    type: 'object',
    properties: {
      fields: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true },
      replacement: { type: 'string', default: REPLACEMENT },
    },
    required: ['fields'],
    additionalProperties: false,
  },
  onResponseHeaders(headers, ctx) {
    if (!(headers.get('content-type') ?? '').toLowerCase().startsWith('application/json')) return;
    if (ctx.endOfStream) return;
    // The body changes length as it streams: let Envoy frame it (chunked) instead.
    headers.delete('content-length');
    redactors.set(ctx, new JsonRedactor(ctx.config.fields, ctx.config.replacement));
  },
  onResponseBody(body, ctx) {
    const redactor = redactors.get(ctx);
    if (redactor === undefined) return;
    let text = '';
    for (const view of body.chunks()) text += redactor.push(view);
    if (body.endOfStream) text += redactor.end();
    body.replace(text);
  },
});

// No cold first request (DESIGN §3): Node 18 loads the code behind many web globals on their first
// use (undici for Response, Request, Headers, FormData and fetch; web streams; the encoding, URL,
// AbortController, Blob, structuredClone and webcrypto internals), and that first use cost 40–110 ms.
// A worker environment uses each of them once while it is prepared (off the workers' path, by the
// environment pool), so no request pays for loading them.
//
// Nothing here leaves work behind: no timer, socket or pending callback outlives the promise jobs
// it queues, which run before the environment serves a stream. Global `fetch` is looked up, not
// called: the call would emit Node's ExperimentalWarning, which is the filter's to trigger, and
// undici loads on the lookups of Response and friends anyway. undici compiles its HTTP parser
// (WebAssembly) when it loads: V8 runs with --no-wasm-async-compilation, so that compile is
// finished here, never a background job that could outlive the environment
// (native/runtime/node_process.cc).

const bytes = (): Uint8Array => new Uint8Array([0x77, 0x61, 0x72, 0x6d]);

/** One step each, in order; a step that throws or rejects is skipped (a libnode built without
 *  some global still serves). */
const STEPS: ReadonlyArray<() => unknown> = [
  () => new TextEncoder().encode('warm'),
  () => new TextDecoder().decode(bytes()),
  () => new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes(), { stream: true }),
  () => new URL('http://warm.invalid/a?b=c').searchParams.get('b'),
  () => new URLSearchParams('a=1&b=2').toString(),
  () => {
    const controller = new AbortController();
    controller.abort(new Error('warm'));
    return AbortSignal.abort().aborted && controller.signal.reason;
  },
  () => structuredClone({ a: [1, 'b', new Map([[1, 2]])] }),
  () => new Event('warm') && new EventTarget(),
  () => atob(btoa('warm')),
  () => (globalThis as unknown as { crypto: { randomUUID(): string } }).crypto.randomUUID(),
  () => performance.now(),
  () => typeof fetch,
  () => new Headers([['a', 'b']]).get('a'),
  () => new Request('http://warm.invalid/', { method: 'POST', body: 'warm', headers: { a: 'b' } }).text(),
  () => {
    const form = new FormData();
    form.append('a', 'b');
    return form.get('a');
  },
  () => new Blob(['warm', bytes()]).arrayBuffer(),
  () => new Response('warm', { status: 201, headers: { a: 'b' } }).text(),
  () => new Response('{"a":1}').json(),
  () => new Response(bytes()).arrayBuffer(),
  () => new Response(null, { status: 204 }).headers.get('a'),
  () => Response.json({ a: 1 }).text(),
  () => new Response(new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes());
      controller.close();
    },
  })).text(),
  async () => {
    const reader = new Response('warm').body?.getReader();
    while (reader !== undefined && !(await reader.read()).done) { /* drain */ }
  },
  () => new ReadableStream({ start: (controller) => controller.close() })
    .pipeThrough(new TransformStream()).pipeTo(new WritableStream()),
  () => new TextDecoderStream() && new TextEncoderStream(),
  () => new CompressionStream('gzip') && new DecompressionStream('gzip'),
];

/** Uses each lazily loaded global once. Never throws; the promise settles when the asynchronous
 *  steps (body reads) have run. */
export function warmLazyBuiltins(): Promise<void> {
  const pending: Promise<unknown>[] = [];
  for (const step of STEPS) {
    try {
      const result = step();
      if (result instanceof Promise) pending.push(result.catch(() => undefined));
    } catch {
      // That global is missing or different in this libnode: nothing to warm.
    }
  }
  return Promise.all(pending).then(() => undefined);
}

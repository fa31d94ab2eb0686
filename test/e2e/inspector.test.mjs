// Inspect mode (ENVOY_TS_INSPECT): every worker environment opens Node's inspector, says where in
// one log line, and answers DevTools' protocol while its worker is idle (no request in flight).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { describe, test } from 'node:test';

import { envoyYaml, examplesBundle, freePort, proxyForSuite, request, runProxyToExit } from './harness.mjs';

// The line the runtime writes per worker environment (and `envoy-ts dev --inspect` parses).
const INSPECTOR_LINE = /\[envoy-ts\] inspector for worker environment (\d+): (ws:\/\/[^\s/]+\/[0-9a-f-]+)/g;
const WORKERS = 2;

// ---- A minimal Chrome DevTools Protocol client (WebSocket over node:http's upgrade) ----

/** Connects to a DevTools WebSocket URL; resolves with { send(method, params), close() }. */
function connectCdp(wsUrl) {
  const url = new URL(wsUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
                 'Sec-WebSocket-Key': randomBytes(16).toString('base64') },
    });
    req.on('error', reject);
    req.on('response', (res) => reject(new Error(`no WebSocket upgrade: HTTP ${res.statusCode}`)));
    req.on('upgrade', (_res, socket, head) => resolve(cdpSession(socket, head)));
    req.end();
  });
}

function cdpSession(socket, head) {
  let buffered = head;
  let nextId = 1;
  const pending = new Map();
  const fail = (error) => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (let frame; (frame = takeFrame()) !== undefined;) {
      if (frame.opcode === 8) {
        socket.destroy(); // the inspector closes (as DevTools would, end the connection)
        return;
      }
      if (frame.opcode !== 1) continue; // only text frames carry CDP messages
      const message = JSON.parse(frame.payload.toString('utf8'));
      const waiter = pending.get(message.id);
      if (waiter === undefined) continue; // an event
      pending.delete(message.id);
      if (message.error) waiter.reject(new Error(`${message.error.message} (${message.error.code})`));
      else waiter.resolve(message.result);
    }
  });
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('the inspector closed the connection')));

  // One unfragmented server frame (servers do not mask), or undefined until it is all there.
  function takeFrame() {
    if (buffered.length < 2) return undefined;
    let length = buffered[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffered.length < 4) return undefined;
      length = buffered.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffered.length < 10) return undefined;
      length = Number(buffered.readBigUInt64BE(2));
      offset = 10;
    }
    if (buffered.length < offset + length) return undefined;
    const frame = { opcode: buffered[0] & 0x0f, payload: buffered.subarray(offset, offset + length) };
    buffered = buffered.subarray(offset + length);
    return frame;
  }

  return {
    send(method, params = {}) {
      const id = nextId++;
      const payload = Buffer.from(JSON.stringify({ id, method, params }));
      const mask = randomBytes(4);
      const lengthBytes = payload.length < 126 ? Buffer.from([0x80 | payload.length])
        : Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff]);
      const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
      socket.write(Buffer.concat([Buffer.from([0x81]), lengthBytes, mask, masked]));
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    },
    close() {
      socket.destroy();
    },
  };
}

// ---- Tests ----

/** The inspector lines the proxy wrote so far: [{ number, url }] by environment number. */
function inspectorLines(output) {
  return [...output.matchAll(INSPECTOR_LINE)].map((m) => ({ number: Number(m[1]), url: m[2] }));
}

async function waitForInspectorLines(proxy, count) {
  for (let tries = 0; tries < 400; tries++) {
    const lines = inspectorLines(proxy.output);
    if (lines.length >= count) return lines;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`expected ${count} inspector lines; output:\n${proxy.output}`);
}

async function evaluate(session, expression) {
  const { result, exceptionDetails } = await session.send('Runtime.evaluate', { expression, returnByValue: true });
  assert.equal(exceptionDetails, undefined, `evaluating ${expression} threw: ${JSON.stringify(exceptionDetails)}`);
  return result.value;
}

describe('inspect mode (ENVOY_TS_INSPECT)', () => {
  const suite = proxyForSuite({
    filterConfigs: [{ bundle: examplesBundle, chain: [{ name: 'request-id' }] }],
    concurrency: WORKERS,
    // Port 0: each environment listens on a free port of the system's choosing.
    env: { ENVOY_TS_INSPECT: '127.0.0.1:0' },
  });

  test('every worker environment (and the pool\'s spare) logs its DevTools URL, numbered from 0', async () => {
    const lines = await waitForInspectorLines(suite.proxy, WORKERS + 1);
    assert.deepEqual(lines.map((l) => l.number).sort(), [0, 1, 2]);
    assert.equal(new Set(lines.map((l) => l.url)).size, lines.length, 'one port per environment');
  });

  test('each environment answers Runtime.evaluate while no request was ever sent', async () => {
    assert.doesNotMatch(suite.proxy.output, /GET \/|x-request-id/i);
    const lines = await waitForInspectorLines(suite.proxy, WORKERS + 1);
    assert.equal(suite.upstream.seen.length, 0, 'no request reached the upstream yet');
    for (const { number, url } of lines) {
      const session = await connectCdp(url);
      try {
        assert.equal(await evaluate(session, '1 + 1'), 2, `environment ${number}`);
        // Envoy is out of reach from the waker thread: the binding says so instead of calling it.
        const code = await evaluate(session, `(() => {
          try { process._linkedBinding('envoy_ts').getHeader(0, 1, 0, 'x'); return 'no error'; }
          catch (error) { return error.code; }
        })()`);
        assert.equal(code, 'ETS_ERR_WRONG_THREAD', `environment ${number}`);
        // What is safe from any thread still works.
        assert.equal(await evaluate(session, `typeof process._linkedBinding('envoy_ts').logEnabled(2)`), 'boolean');
        // A timer runs while the worker stays idle (the loop turns on the waker thread).
        const fired = await session.send('Runtime.evaluate', {
          expression: 'new Promise((resolve) => setTimeout(() => resolve("fired"), 20))',
          awaitPromise: true, returnByValue: true,
        });
        assert.equal(fired.result.value, 'fired', `environment ${number}`);
      } finally {
        session.close();
      }
    }
  });

  test('the proxy serves requests on every worker, and the inspector still answers after them', async () => {
    for (let i = 0; i < 20; i++) {
      const response = await request(suite.proxy.port, { headers: { 'x-request-id': `inspect-${i}` } });
      assert.equal(response.status, 200);
      assert.equal(response.headers['x-request-id'], `inspect-${i}`);
    }
    for (const { number, url } of await waitForInspectorLines(suite.proxy, WORKERS + 1)) {
      const session = await connectCdp(url);
      try {
        assert.equal(await evaluate(session, '6 * 7'), 42, `environment ${number}`);
      } finally {
        session.close();
      }
    }
    const response = await request(suite.proxy.port);
    assert.equal(response.status, 200);
  });
});

describe('inspect mode is off by default', () => {
  const suite = proxyForSuite({ filterConfigs: [{ bundle: examplesBundle, chain: [{ name: 'request-id' }] }] });

  test('no inspector line, and the binding is the runtime\'s own', async () => {
    const response = await request(suite.proxy.port);
    assert.equal(response.status, 200);
    assert.doesNotMatch(suite.proxy.output, /inspector for worker environment/);
  });
});

describe('ENVOY_TS_INSPECT that does not parse', () => {
  for (const value of ['lots', '127.0.0.1:', ':9229', '70000', '127.0.0.1:-1', '9229x']) {
    test(`"${value}" stops the proxy at startup with a clear error`, async () => {
      const yaml = envoyYaml({ listenPort: await freePort(), adminPort: await freePort(), upstreamPort: 9,
                               filterConfigs: [{ bundle: examplesBundle, chain: [{ name: 'request-id' }] }] });
      const { code, output } = await runProxyToExit(yaml, { env: { ENVOY_TS_INSPECT: value } });
      assert.notEqual(code, 0);
      assert.match(output, new RegExp(`ENVOY_TS_INSPECT must be <port> or <host>:<port>.*got "${value.replace(/[.]/g, '\\.')}"`));
    });
  }
});

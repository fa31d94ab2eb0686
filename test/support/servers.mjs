// Real servers for tests and benchmarks, listening on loopback.

import http from 'node:http';

/**
 * Listens on 127.0.0.1 on a free port; resolves with the port and a close() that also drops
 * kept-alive connections (so a test never waits on an idle socket).
 */
export async function listenLoopback(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(resolve);
    }),
  };
}

/**
 * An upstream answering 200 `ok` (with content-length), except `GET /slow`, which it holds until
 * `release()`; `slowArrived` resolves when that request is in (a request in flight across a
 * configuration change).
 */
export async function startHoldingUpstream() {
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  let arrived;
  const slowArrived = new Promise((resolve) => { arrived = resolve; });
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      if (req.url === '/slow') {
        arrived();
        await released;
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    });
  });
  const upstream = await listenLoopback(server);
  return { ...upstream, release, slowArrived };
}

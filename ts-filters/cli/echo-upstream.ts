// A local upstream for development: answers every request with what it received, as JSON.

import http from 'node:http';

export async function startEchoUpstream(host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, path: req.url, headers: req.headers,
                               body: Buffer.concat(chunks).toString('utf8') }, null, 2) + '\n');
    });
  });
  await new Promise<void>((done, fail) => server.once('error', fail).listen(port, host, done))
    .catch((error: Error) => {
      throw new Error(`cannot listen on ${host}:${port} for the echo upstream: ${error.message}`);
    });
  return server;
}

export function stopEchoUpstream(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((done) => server.close(() => done()));
}

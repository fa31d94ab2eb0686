#!/usr/bin/env node
// `npm start`: the example chain (envoy-configs/example.yaml) on 127.0.0.1:10000 in front of an
// echo upstream on 127.0.0.1:10001. Uses real Envoy when ENVOY_BIN is set or `envoy` is on PATH,
// the conformance host otherwise. Ctrl-C stops everything.
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const config = 'envoy-configs/example.yaml';
const moduleDir = join(root, 'build/Release');

function findEnvoy() {
  if (process.env.ENVOY_BIN) return process.env.ENVOY_BIN;
  const which = spawnSync('sh', ['-c', 'command -v envoy'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : '';
}

const upstream = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, path: req.url, headers: req.headers,
                             body: Buffer.concat(chunks).toString('utf8') }, null, 2) + '\n');
  });
});
await new Promise((done, fail) => upstream.once('error', fail).listen(10001, '127.0.0.1', done))
  .catch((error) => {
    console.error(`[start] cannot listen on 127.0.0.1:10001 for the echo upstream: ${error.message}`);
    process.exit(1);
  });

const envoy = findEnvoy();
const [file, args] = envoy
  ? [envoy, ['-c', config, '--concurrency', '2', '-l', 'info']]
  : [join(moduleDir, 'envoy-ts-host'), ['-c', config, '--concurrency', '2', '-l', 'info']];
console.log(envoy
  ? `[start] proxy: Envoy (${envoy}) with libenvoy_ts.so`
  : '[start] proxy: the envoy-ts conformance host (no `envoy` on PATH; set ENVOY_BIN to use Envoy)');

const proxy = spawn(file, args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ENVOY_DYNAMIC_MODULES_SEARCH_PATH: moduleDir },
});

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  proxy.kill('SIGTERM');
  upstream.closeAllConnections();
  upstream.close();
  const killer = setTimeout(() => proxy.kill('SIGKILL'), 10000);
  killer.unref();
  proxy.once('exit', () => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
proxy.on('exit', (code, signal) => {
  if (!stopping) {
    console.error(`[start] the proxy exited (${signal ?? code})`);
    upstream.close();
    process.exit(1);
  }
});

// Ready once the admin endpoint says so.
for (let i = 0; i < 300 && !stopping; i++) {
  const ready = await new Promise((done) => {
    http.get('http://127.0.0.1:9901/ready', (res) => { res.resume(); done(res.statusCode === 200); })
      .on('error', () => done(false));
  });
  if (ready) {
    console.log(`
[start] ready on http://127.0.0.1:10000 (chain: request-id → async-delay → header-auth). Try:
  curl -i http://127.0.0.1:10000/hello -H 'authorization: Bearer let-me-in'
  curl -i http://127.0.0.1:10000/hello            # 401 from header-auth
Ctrl-C stops the proxy and the upstream.`);
    break;
  }
  await new Promise((done) => setTimeout(done, 100));
}

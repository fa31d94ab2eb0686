// What a product team does with envoy-ts, step by step as README's "Your own filter project" says:
// pack the package, create a project with `envoy-ts init`, run its tests, build, check, run it with
// `dev`, curl the filter, edit the source and see the change served.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { freePort, root } from './harness.mjs';
import { runtimeNameOfThisMachine, runtimes } from '../../scripts/runtimes.mjs';

const work = mkdtempSync(path.join(tmpdir(), 'envoy-ts-project-'));
const project = path.join(work, 'my-filters');

/** Runs a command to completion; fails the test with its output when it does not exit 0. */
// The project's own `node --test` must not think it runs inside this one.
const { NODE_TEST_CONTEXT, ...baseEnv } = process.env;

function run(command, args, { cwd = project, expectStatus = 0, env = {} } = {}) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...baseEnv, ...env },
                                            maxBuffer: 64 * 1024 * 1024 });
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.status, expectStatus, `${command} ${args.join(' ')} exited ${result.status}:\n${output}`);
  return output;
}

function get(port, urlPath) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    }).on('error', reject);
  });
}

/** `npm run dev`, its output as it comes, and a way to wait for a line. */
function startDev(extraArgs = []) {
  const args = ['run', 'dev', ...(extraArgs.length > 0 ? ['--', ...extraArgs] : [])];
  const child = spawn('npm', args, { cwd: project, detached: true, env: baseEnv,
                                               stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters = [];
  const onData = (chunk) => {
    output += chunk;
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(output.slice(waiter.from));
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return {
    get output() { return output; },
    /** Resolves with the first match of `pattern` in what is printed from now on. */
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} after ${timeoutMs} ms:\n${output}`)), timeoutMs);
        waiters.push({ pattern, from: output.length, resolve: (m) => { clearTimeout(timer); resolve(m); } });
        exited.then((code) => reject(new Error(`dev exited (${code}):\n${output}`)));
      });
    },
    /** Ctrl-C in the terminal: SIGINT to npm, dev and the proxy. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGINT');
      return exited;
    },
  };
}

describe('a filter project outside this repository', () => {
  let tarball;
  let ports;

  before(() => {
    // prepack builds what is missing (scripts/setup.sh); here everything is built already.
    run('npm', ['pack', '--pack-destination', work, '--loglevel=error'], { cwd: root });
    tarball = path.join(work, readdirSync(work).find((f) => f.endsWith('.tgz')));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('the package holds the API, the test kit, the CLI and the native parts, no sources', () => {
    const listing = run('tar', ['-tzf', tarball], { cwd: work }).split('\n');
    for (const file of ['package/dist/api/index.js', 'package/dist/api/index.d.ts', 'package/dist/testing/index.js',
                        'package/dist/testing/index.d.ts', 'package/dist/cli/envoy-ts.js',
                        'package/build/Release/libenvoy_ts.so', 'package/build/Release/envoy-ts-offload-runner.js',
                        'package/build/Release/envoy-ts-host',
                        'package/scripts/setup-runtime.sh']) {
      assert.ok(listing.includes(file), `${file} is in the package`);
    }
    const ours = listing.filter((f) => !f.startsWith('package/dist/cli/templates/'));  // init's project
    assert.deepEqual(ours.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), [], 'no TypeScript sources');
    assert.deepEqual(ours.filter((f) => f.includes('/native/') || f.includes('/test/')), []);
    const dts = run('tar', ['-xzOf', tarball, 'package/dist/api/index.d.ts'], { cwd: work });
    assert.doesNotMatch(dts, /@internal|kHttpFilter/, 'internal declarations are stripped');
  });

  test('envoy-ts init makes a project whose own npm test passes', () => {
    const created = run('npm', ['exec', '--yes', `--package=${tarball}`, '--', 'envoy-ts', 'init', project,
                                `--package-spec=file:${tarball}`], { cwd: work });
    assert.match(created, /src\/greeting\.ts/);
    for (const file of ['package.json', 'tsconfig.json', 'envoy.yaml', 'README.md', '.gitignore', 'src/index.ts',
                        'test/greeting.test.ts']) {
      assert.ok(readFileSync(path.join(project, file), 'utf8').length > 0, file);
    }
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error']);
    const tested = run('npm', ['test']);
    assert.match(tested, /# fail 0/);
    assert.doesNotMatch(tested, /# pass 0\b/);
  });

  test('envoy-ts setup makes the prebuilt module and host runnable', () => {
    run('npx', ['envoy-ts', 'setup']);
    const ldd = run('ldd', ['node_modules/envoy-ts/build/Release/libenvoy_ts.so']);
    const { libnode } = runtimes[runtimeNameOfThisMachine()];
    assert.match(ldd, new RegExp(`${libnode.replaceAll('.', '\\.')} => .*node_modules/envoy-ts/build/Release/\\.\\./\\.\\./\\.sysroot/`));
    assert.doesNotMatch(ldd, /not found/);
  });

  test('npm run build bundles the filters and lists what they export', () => {
    const built = run('npm', ['run', 'build']);
    assert.match(built, /built dist\/filters\.js/);
    assert.match(built, /http filter 'greeting' \(export greeting\): onRequestHeaders, onResponseHeaders/);
    assert.ok(readFileSync(path.join(project, 'dist/filters.js.map'), 'utf8').includes('src/greeting.ts'));
  });

  test('the same tests run through the real module in the proxy with one switch', () => {
    const tested = run('npm', ['test'], { env: { ENVOY_TS_TEST_ENGINE: 'host' } });
    assert.match(tested, /# fail 0/);
    assert.doesNotMatch(tested, /# pass 0\b/);
  });

  test('npm run check validates envoy.yaml; a bad filter config is rejected naming the field', () => {
    assert.match(run('npm', ['run', 'check']), /envoy\.yaml: OK/);
    const yaml = readFileSync(path.join(project, 'envoy.yaml'), 'utf8');
    writeFileSync(path.join(project, 'bad.yaml'), yaml.replace('"message": "hello from envoy-ts"', '"message": 42'));
    const rejected = run('npx', ['envoy-ts', 'check', 'bad.yaml'], { expectStatus: 1 });
    assert.match(rejected, /greeting/);
    assert.match(rejected, /message/);
    assert.match(rejected, /bad\.yaml: rejected/);
    const config = JSON.stringify({ bundle: 'dist/filters.js', chain: [{ name: 'greting' }] });
    writeFileSync(path.join(project, 'chain.json'), config);
    assert.match(run('npx', ['envoy-ts', 'check', 'chain.json'], { expectStatus: 1 }), /greting/);
  });

  test('npm run dev serves the filter, and serves an edit after the save', async () => {
    ports = { listen: await freePort(), admin: await freePort(), upstream: await freePort() };
    // Ports of our own, as a team would pick free ones.
    for (const file of ['envoy.yaml', 'package.json']) {
      const text = readFileSync(path.join(project, file), 'utf8')
        .replace('port_value: 10000', `port_value: ${ports.listen}`)
        .replace('port_value: 9901', `port_value: ${ports.admin}`)
        .replaceAll('10001', String(ports.upstream));
      writeFileSync(path.join(project, file), text);
    }
    const dev = startDev();
    try {
      await dev.waitFor(/\[dev\] ready/);
      assert.match(dev.output, /\[dev\] proxy: (Envoy|the envoy-ts conformance host)/);
      const hello = await get(ports.listen, '/hello');
      assert.equal(hello.status, 200);
      assert.equal(hello.body, 'hello from envoy-ts\n');
      const proxied = await get(ports.listen, '/anything');
      assert.equal(proxied.status, 200);
      assert.equal(JSON.parse(proxied.body).path, '/anything', 'the echo upstream answered');
      assert.equal(proxied.headers['x-greeting'], 'hello from envoy-ts');

      const source = path.join(project, 'src/greeting.ts');
      writeFileSync(source, readFileSync(source, 'utf8').replace('`${ctx.config.message}\\n`',
                                                                 '`${ctx.config.message}, edited\\n`'));
      const [line] = await dev.waitFor(/\[dev\] serving the new code (\d+) ms after the save/);
      const edited = await get(ports.listen, '/hello');
      assert.equal(edited.body, 'hello from envoy-ts, edited\n', line);
    } finally {
      await dev.stop();
    }
    await proxyGone();
  });

  test('npm run dev -- --inspect prints an inspector per worker environment and keeps serving', async () => {
    const dev = startDev(['--inspect', '0']);
    try {
      await dev.waitFor(/\[dev\] ready/);
      // Two workers and the spare environment the pool keeps prepared (lines may come before ready).
      const announced = () => [0, 1, 2].every((n) => new RegExp(`\\[dev\\] inspector of worker environment ${n}: ` +
        'devtools://devtools/bundled/js_app\\.html\\?ws=127\\.0\\.0\\.1:\\d+/').test(dev.output));
      for (let i = 0; i < 300 && !announced(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(announced(), dev.output);
      assert.equal((await get(ports.listen, '/hello')).status, 200);
    } finally {
      await dev.stop();
    }
    await proxyGone();
  });

  /** The proxy went with dev (dev stops it on Ctrl-C). */
  async function proxyGone() {
    for (let i = 0; i < 300 && await get(ports.admin, '/ready').then(() => true, () => false); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await assert.rejects(get(ports.admin, '/ready'), /ECONNREFUSED/);
  }
});

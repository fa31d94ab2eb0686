// Small helpers shared by the benchmark: processes, ports, statistics, machine info, formatting.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const releaseDir = path.join(root, 'build/Release');
export const hostBin = path.join(releaseDir, 'envoy-ts-host');
export const examplesBundle = path.join(root, 'dist/examples/filters.js');
export const fixturesBundle = path.join(root, 'dist/test/fixtures/filters.js');

export const log = (...args) => console.error('[bench]', ...args);
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Thrown for a configuration that does not do what it should: the run exits non-zero. */
export class BenchFailure extends Error {}

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs a command to completion; resolves {code, signal, stdout, stderr}. */
export function run(file, args, { env, timeoutMs = 120000, cwd = root } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export { freePort } from '../../test/support/proxy-config.mjs';

/** VmRSS of a live process in KiB (null when it is gone). */
export function rssKiB(pid) {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** utime + stime of a whole process in seconds (null when it is gone). */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return null;
  }
}
const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * Installs a Debian package the bench needs (`what` it is for) with apt-get, as root (else it
 * says so); `apt-get update` first only if the install fails. Resolves whether it installed. The
 * package's services are never started (RUNLEVEL=1): only the bench's own instances run.
 */
export async function aptInstall(pkg, what) {
  if (process.getuid?.() !== 0) {
    log(`${pkg} (${what}) is not installed and this is not root: cannot install it`);
    return false;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' };
  for (const update of [false, true]) {
    if (update) await run('apt-get', ['update', '-qq'], { env, timeoutMs: 180000 });
    log(`installing ${what}: apt-get install -y ${pkg}`);
    const out = await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], { env, timeoutMs: 300000 });
    if (out.code === 0) return true;
    log(`apt-get install ${pkg} failed (exit ${out.code}): ${out.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return false;
}

/** Log lines at error/critical level in the conformance host's output. */
export function errorLines(output) {
  return output.split('\n').filter((line) => /\]\[(error|critical)\]\[/.test(line));
}

function firstLine(file, args) {
  const out = spawnSync(file, args, { encoding: 'utf8' });
  const text = `${out.stdout ?? ''}${out.stderr ?? ''}`.trim();  // wrk --version exits 1
  return text ? text.split('\n')[0] : null;
}

/** Node version embedded in libenvoy_ts.so (from the sysroot headers it was built against). */
function embeddedNodeVersion() {
  try {
    const header = readFileSync(path.join(root, '.sysroot/usr/include/node/node_version.h'), 'utf8');
    const part = (name) => new RegExp(`#define ${name} (\\d+)`).exec(header)?.[1];
    return `v${part('NODE_MAJOR_VERSION')}.${part('NODE_MINOR_VERSION')}.${part('NODE_PATCH_VERSION')}`;
  } catch {
    return null;
  }
}

export function machineInfo() {
  const git = (...args) => spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout.trim();
  const dirtyFiles = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' })
    .stdout.split('\n').filter(Boolean).map((line) => line.slice(3));
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    total_mem_mib: Math.round(os.totalmem() / 1048576),
    kernel: `${os.type()} ${os.release()}`,
    node_runner: process.version,
    node_embedded: embeddedNodeVersion(),
    wrk: firstLine('wrk', ['--version'])?.replace(/ \[.*$/, '') ?? null,
    git_commit: git('rev-parse', 'HEAD') || null,
    git_dirty: dirtyFiles.length > 0,
    git_dirty_files: dirtyFiles,
  };
}

/** A fixed-width text table (first column left-aligned, the others right-aligned). */
export function textTable(header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

/** The same table as GitHub markdown. */
export function mdTable(header, rows) {
  const line = (r) => `| ${r.map(String).join(' | ')} |`;
  return [line(header), `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map(line)].join('\n');
}

export const fmt = {
  int: (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a'),
  fixed: (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a'),
  pct: (v) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)} %` : 'n/a'),
  ms: (v) => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : 'n/a'),
  mib: (kib) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MiB` : 'n/a'),
  bytes: (n) => (n >= 1048576 ? `${n / 1048576} MiB` : n >= 1024 ? `${n / 1024} KiB` : `${n} B`),
};

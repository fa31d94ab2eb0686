// Where a callgrind run's instructions went, by who executed them: JavaScript compiled by V8, V8's
// builtins (the code JavaScript calls for allocation, property access, calls), the rest of V8 and
// Node (the embedder API, entry and exit, microtasks), the module, the host, and the C library,
// allocator and other shared libraries. The instructions part reports the difference between a TS
// configuration and the host alone this way, to show what stands between the crossing and its
// targets beyond JavaScript.
import { spawnSync } from 'node:child_process';

import { BenchFailure } from './util.mjs';

const CALLGRIND_ANNOTATE = '/usr/bin/callgrind_annotate';

/** The owners, in report order, with their labels. */
export const OWNERS = [
  ['jit', 'JavaScript (code V8 compiled)'],
  ['v8Builtins', 'V8 builtins (calls, allocation, property access)'],
  ['v8', 'V8 and Node C++ (embedder API, entry and exit, microtasks)'],
  ['module', 'the module (libenvoy_ts.so)'],
  ['host', 'the host (Envoy\'s side)'],
  ['other', 'C library, allocator, other libraries'],
];

// One line of callgrind_annotate's per-function list: "<count> (<pct>)  <file>:<function> [<object>]".
const LINE = /^\s*([\d,]+)\s+\([^)]*\)\s+(\S.*?)(?:\s+\[([^\]]*)\])?\s*$/;

function ownerOf(fn, object) {
  const unnamed = fn.startsWith('???:0x');
  if (object === undefined || object === '???') return unnamed ? 'jit' : 'other';
  if (/\/libnode\.so/.test(object)) return unnamed ? 'v8Builtins' : 'v8';
  if (/\/libenvoy_ts\.so$/.test(object)) return 'module';
  if (/\/envoy-ts-host$/.test(object)) return 'host';
  return 'other';
}

/** Instructions of `file` (a callgrind output) by owner, divided by `streams`. */
export function instructionsByOwner(file, streams) {
  const out = spawnSync(CALLGRIND_ANNOTATE, ['--threshold=100', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (out.status !== 0) throw new BenchFailure(`callgrind_annotate ${file} failed: ${out.stderr}`);
  const owners = Object.fromEntries(OWNERS.map(([key]) => [key, 0]));
  let listed = false;
  for (const line of out.stdout.split('\n')) {
    if (/file:function/.test(line)) { listed = true; continue; }
    if (!listed) continue;
    const match = LINE.exec(line);
    if (match === null) continue;
    owners[ownerOf(match[2], match[3])] += Number(match[1].replaceAll(',', '')) / streams;
  }
  return owners;
}

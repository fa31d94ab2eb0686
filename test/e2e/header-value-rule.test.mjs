// The rule for header values exists twice: in the binding, applied byte by byte as a HeaderMapView
// write is copied into the proxy (native/bridge/header_binding.cc), and in the runtime, for
// ctx.respond() and ctx.fetch() headers and the test kit (forbiddenValueChar,
// ts-filters/runtime/header-map.ts). Both must refuse the same chars and name the same first one:
// every char up to U+00FF, chars above it (where a latin1 copy would truncate), and values with
// more than one refused char. The binding is asked in one request per group
// (test/e2e/fixtures/header-value-rule.ts), the runtime's function here, built from its source.
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, test } from 'node:test';

import esbuild from 'esbuild';

import { fixturesBundle, proxyForSuite, proxyName, request, root } from './harness.mjs';

const hex = (code) => `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
const describeValue = (value) => (value.length > 40 ? `${value.length} chars ending ` : '') +
  Array.from(value.slice(-40), (char) => hex(char.charCodeAt(0))).join(' ');

const latin1 = Array.from({ length: 0x100 }, (_, code) => `a${String.fromCharCode(code)}b`);
const aboveLatin1 = ['\u0100', '\u010a', '\u2028', '\ufffd', '\ud83d\ude00', '\ud800', '\udc00'].map((char) => `a${char}b`);
const mixed = [
  '', 'a\r\u010a', '\u010a\r', 'ok\x7f\u2028', 'caf\u00e9\u0100\n', '\t\u00ff\0\u00ff',
  `${'v'.repeat(600)}\n`, `${'v'.repeat(600)}\u010a`,  // longer than the binding's stack buffer
];

// Sent as one header: JSON with every char outside printable ASCII escaped.
const asHeader = (values) => JSON.stringify(values).replace(/[^\x20-\x7e]/g, (char) => `\\u${hex(char.charCodeAt(0)).slice(2)}`);

/** The runtime's forbiddenValueChar, bundled from its source as the runtime's build does. */
async function runtimeRule() {
  const { outputFiles } = await esbuild.build({
    entryPoints: [path.join(root, 'ts-filters/runtime/header-map.ts')],
    bundle: true, platform: 'node', target: 'node18', format: 'esm', write: false, logLevel: 'warning',
    tsconfig: path.join(root, 'tsconfig.json'), absWorkingDir: root,
  });
  const { forbiddenValueChar } = await import(`data:text/javascript,${encodeURIComponent(outputFiles[0].text)}`);
  return forbiddenValueChar;
}

describe(`one rule for header values in the binding and the runtime, through ${proxyName}`, () => {
  const suite = proxyForSuite({ filterConfigs: [{ bundle: fixturesBundle, chain: [{ name: 'header-value-rule' }] }] });
  let forbiddenValueChar;
  before(async () => { forbiddenValueChar = await runtimeRule(); });

  /** [index the binding refused, index the runtime refuses] per value (-1: accepted). */
  async function verdicts(values) {
    const response = await request(suite.proxy.port, {
      headers: { 'x-probe-id': 'value-rule', 'x-value-cases': asHeader(values) },
    });
    assert.equal(response.status, 200, response.body);
    const binding = JSON.parse(response.body);
    assert.equal(binding.length, values.length);
    return values.map((value, i) => [binding[i], forbiddenValueChar(value)]);
  }

  function assertAgree(values, answer) {
    const disagreements = values.flatMap((value, i) => {
      const [binding, runtime] = answer[i];
      return binding === runtime ? [] : [`${describeValue(value)}: the binding says ${binding}, the runtime ${runtime}`];
    });
    assert.deepEqual(disagreements, []);
  }

  test('every char up to U+00FF: refused by both or by neither, at the same index', async () => {
    const answer = await verdicts(latin1);
    assertAgree(latin1, answer);
    // What both refuse is the rule itself: HTAB, SP, VCHAR and obs-text pass.
    const refused = latin1.flatMap((_, code) => (answer[code][0] === 1 ? [code] : []));
    const expected = Array.from({ length: 0x100 }, (_, code) => code).filter((code) => (code < 0x20 && code !== 0x09) || code === 0x7f);
    assert.deepEqual(refused, expected);
  });

  test('chars above U+00FF (surrogates too) are refused by both at their index', async () => {
    const answer = await verdicts(aboveLatin1);
    assertAgree(aboveLatin1, answer);
    assert.deepEqual(answer.map(([binding]) => binding), aboveLatin1.map(() => 1));
  });

  test('values with several refused chars: both name the first, whichever kind it is', async () => {
    const answer = await verdicts(mixed);
    assertAgree(mixed, answer);
    assert.deepEqual(answer.map(([binding]) => binding), [-1, 1, 0, 2, 4, 2, 600, 600]);
  });
});

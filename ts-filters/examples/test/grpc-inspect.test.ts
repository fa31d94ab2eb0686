import assert from 'node:assert/strict';
import { relative, resolve } from 'node:path';
import { describe, test } from 'node:test';

import * as protobuf from 'protobufjs';

import { BufferKind, HookKind, HookOutcome } from '../../runtime/codes';
import type { HookOutcome as Outcome } from '../../runtime/native';
import { withChain, type FakeBinding, type FakeStream } from '../../runtime/test/fake-binding';
import { encodeGrpcFrame } from '../grpc-inspect';
import * as examples from '../index';

// This test runs from build/tests/examples: the repository root is three folders up.
const PROTO_FILE = resolve(__dirname, '../../../ts-filters/examples/protos/shop.proto');
const CreateOrder = new protobuf.Root().loadSync(PROTO_FILE, { keepCase: true }).lookupType('shop.CreateOrder');

const CREATE = '/shop.Orders/Create';
const IMPORT = '/shop.Orders/Import';

/** One CreateOrder message, framed as gRPC sends it. */
function order(fields: Record<string, unknown>): Buffer {
  return Buffer.from(encodeGrpcFrame(CreateOrder.encode(CreateOrder.fromObject(fields)).finish()));
}

const CLEAN = { customer_id: 'c-17', items: [{ sku: 'TEA', quantity: 2 }], amount_cents: 1250, channel: 'WEB' };

const CONFIG = {
  protoFile: PROTO_FILE,
  methods: {
    [CREATE]: {
      deny: [
        { field: 'items.sku', in: ['BANNED', 'RECALLED'] },
        { field: 'amount_cents', above: 1_000_000, message: 'montant trop élevé: 100% refusé' },
        { field: 'amount_cents', below: 0 },
        { field: 'channel', equals: 'STAFF' },
        { field: 'note', matches: '<script' },
        { field: 'labels.env', equals: 'test' },
        { field: 'coupons', in: ['FREE100'] },
        { field: 'gift', equals: true },
      ],
    },
    [IMPORT]: { message: 'shop.CreateOrder', deny: [{ field: 'amount_cents', above: 5000 }] },
  },
};

function inspector(config: unknown = CONFIG): FakeBinding {
  return withChain(examples, [{ name: 'grpc-inspect', config }]).binding;
}

function call(binding: FakeBinding, path = CREATE, contentType = 'application/grpc'): FakeStream {
  const s = binding.openStream(1, { ':method': 'POST', ':path': path, 'content-type': contentType, te: 'trailers' });
  assert.equal(binding.hook(s, HookKind.RequestHeaders, false), HookOutcome.Continue);
  return s;
}

/** A binary request chunk arrives (binding.body() takes text): returns the outcome and what went on. */
function send(binding: FakeBinding, s: FakeStream, data: Uint8Array, endOfStream: boolean):
  { outcome: Outcome; passed: Buffer } {
  const held = s.bodies[BufferKind.Read];
  held.push(Buffer.from(data));
  const outcome = binding.hook(s, HookKind.RequestBody, endOfStream);
  if (outcome !== HookOutcome.Continue) return { outcome, passed: Buffer.alloc(0) };
  const passed = Buffer.concat(held);
  held.length = 0;
  return { outcome, passed };
}

/** The local reply's headers as a record. */
function replyHeaders(s: FakeStream): Record<string, string> {
  const flat = s.localReply?.headers ?? [];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}

function assertRefused(s: FakeStream, status: number, message: RegExp): void {
  assert.equal(s.localReply?.status, 200);
  const headers = replyHeaders(s);
  assert.equal(headers['content-type'], 'application/grpc');
  assert.equal(headers['grpc-status'], String(status));
  assert.match(decodeURIComponent(headers['grpc-message'] ?? ''), message);
}

describe('grpc-inspect', () => {
  test('messages split at every byte position go on unchanged, each once it is whole', () => {
    const frames = [order(CLEAN), order({ ...CLEAN, amount_cents: 999_999, note: 'ünïcödé' }), order({})];
    const body = Buffer.concat(frames);
    const ends: number[] = [];
    for (const frame of frames) ends.push((ends.at(-1) ?? 0) + frame.length);
    const binding = inspector();
    for (let cut = 1; cut < body.length; cut++) {
      const s = call(binding);
      const first = send(binding, s, body.subarray(0, cut), false);
      const whole = Math.max(0, ...ends.filter((end) => end <= cut));
      assert.deepEqual(first.passed, body.subarray(0, whole), `cut at ${cut}: only whole messages go on`);
      const second = send(binding, s, body.subarray(cut), true);
      assert.equal(second.outcome, HookOutcome.Continue);
      assert.deepEqual(Buffer.concat([first.passed, second.passed]), body, `cut at ${cut}`);
      assert.equal(s.localReply, undefined);
    }
    const s = call(binding);
    const passed = [...body].map((byte, i) => send(binding, s, Uint8Array.of(byte), i === body.length - 1).passed);
    assert.deepEqual(Buffer.concat(passed), body, 'byte by byte');
  });

  test('several messages in one chunk: all checked, a denied one refuses the chunk', () => {
    const binding = inspector();
    const allowed = Buffer.concat([order(CLEAN), order(CLEAN), order({ amount_cents: 5000 })]);
    const s = call(binding, IMPORT);
    assert.deepEqual(send(binding, s, allowed, false).passed, allowed);
    const refused = call(binding, IMPORT);
    const { outcome } = send(binding, refused, Buffer.concat([order(CLEAN), order({ amount_cents: 5001 })]), true);
    assert.equal(outcome, HookOutcome.Replied);
    assertRefused(refused, 7, /^denied: amount_cents above 5000$/);
    assert.equal(refused.localReply?.details, 'grpc_inspect_denied');
  });

  test('each kind of rule refuses with PERMISSION_DENIED; the rest passes', () => {
    const binding = inspector();
    for (const [fields, message] of [
      [{ items: [{ sku: 'TEA' }, { sku: 'RECALLED' }] }, /^denied: items\.sku in \["BANNED","RECALLED"\]$/],
      [{ amount_cents: 1_000_001 }, /^montant trop élevé: 100% refusé$/],
      [{ amount_cents: -1 }, /^denied: amount_cents below 0$/],
      [{ channel: 'STAFF' }, /^denied: channel equals "STAFF"$/],
      [{ note: 'hi <script>' }, /^denied: note matches \/<script\/$/],
      [{ labels: { env: 'test', team: 'a' } }, /^denied: labels\.env equals "test"$/],
      [{ coupons: ['A', 'FREE100'] }, /^denied: coupons in \["FREE100"\]$/],
      [{ gift: true }, /^denied: gift equals true$/],
    ] as const) {
      const s = call(binding);
      assert.equal(send(binding, s, order({ ...CLEAN, ...fields }), true).outcome, HookOutcome.Replied,
                   JSON.stringify(fields));
      assertRefused(s, 7, message);
    }
    const passing = order({ ...CLEAN, amount_cents: 1_000_000, channel: 'PHONE', note: 'script', gift: false,
                            labels: { team: 'test' }, coupons: ['FREE10'], items: [{ sku: 'BANNED-NOT' }] });
    const s = call(binding);
    assert.deepEqual(send(binding, s, passing, true).passed, passing);
  });

  test('grpc-message is percent-encoded UTF-8', () => {
    const binding = inspector();
    const s = call(binding);
    send(binding, s, order({ amount_cents: 2_000_000 }), true);
    assert.equal(replyHeaders(s)['grpc-message'], 'montant trop %C3%A9lev%C3%A9: 100%25 refus%C3%A9');
  });

  test('nothing of a denied message goes on, even when earlier chunks held its start', () => {
    const binding = inspector();
    const s = call(binding, IMPORT);
    const allowed = order(CLEAN);
    const denied = order({ ...CLEAN, amount_cents: 9000 });
    assert.deepEqual(send(binding, s, Buffer.concat([allowed, denied.subarray(0, 7)]), false).passed, allowed);
    assert.deepEqual(send(binding, s, denied.subarray(7, 9), false).passed, Buffer.alloc(0));
    assert.equal(send(binding, s, denied.subarray(9), false).outcome, HookOutcome.Replied);
    assertRefused(s, 7, /amount_cents above 5000/);
  });

  test('malformed, truncated, oversized and compressed messages are refused', () => {
    const binding = inspector({ ...CONFIG, maxMessageBytes: 64 });
    const cases: [Uint8Array, number, RegExp][] = [
      [Uint8Array.of(2, 0, 0, 0, 0), 3, /^malformed gRPC frame: invalid compressed flag 2$/],
      [encodeGrpcFrame(Uint8Array.of(0x0a, 0x05, 0x61)), 3, /^the message is not a valid shop\.CreateOrder: index out of range/],
      [order(CLEAN).subarray(0, 10), 3, /^the request ended inside a message$/],
      [encodeGrpcFrame(new Uint8Array(65)), 8, /^received message larger than max \(65 vs\. 64\)$/],
      [encodeGrpcFrame(CreateOrder.encode({}).finish(), true), 12, /^compressed messages are not accepted/],
    ];
    for (const [data, status, message] of cases) {
      const s = call(binding);
      assert.equal(send(binding, s, data, true).outcome, HookOutcome.Replied, String(message));
      assertRefused(s, status, message);
    }
    const s = call(binding);
    send(binding, s, encodeGrpcFrame(CreateOrder.encode({}).finish(), true), true);
    assert.equal(replyHeaders(s)['grpc-accept-encoding'], 'identity');
    // A request that ends with trailers inside a message.
    const cut = call(binding);
    assert.equal(send(binding, cut, order(CLEAN).subarray(0, 3), false).outcome, HookOutcome.Continue);
    assert.equal(binding.hook(cut, HookKind.RequestTrailers), HookOutcome.Replied);
    assertRefused(cut, 3, /ended inside a message/);
  });

  test('inspects application/grpc(+proto) on configured paths only; other codecs of them are refused', () => {
    const binding = inspector();
    const proto = call(binding, CREATE, 'application/grpc+proto');
    assert.equal(send(binding, proto, order({ gift: true }), true).outcome, HookOutcome.Replied);
    const query = call(binding, `${CREATE}?x=1`);
    assert.equal(send(binding, query, order({ gift: true }), true).outcome, HookOutcome.Replied);

    const other = call(binding, '/shop.Other/Create');
    const garbage = Uint8Array.of(9, 9, 9);
    assert.deepEqual(send(binding, other, garbage, true).passed, Buffer.from(garbage));

    const json = binding.openStream(1, { ':path': CREATE, 'content-type': 'application/grpc+json' });
    assert.equal(binding.hook(json, HookKind.RequestHeaders, false), HookOutcome.Replied);
    assertRefused(json, 12, /content-type application\/grpc\+json is not inspected/);
    const plain = binding.openStream(1, { ':path': CREATE, 'content-type': 'application/json' });
    assert.equal(binding.hook(plain, HookKind.RequestHeaders, false), HookOutcome.Replied);
    assert.equal(plain.localReply?.status, 415);
  });

  test('counts each decision by method', () => {
    const binding = inspector();
    const s = call(binding, IMPORT);
    send(binding, s, Buffer.concat([order(CLEAN), order(CLEAN)]), false);
    send(binding, s, order({ amount_cents: 6000 }), true);
    assert.deepEqual(s.metrics.map(([, , value, labels]) => [value, ...labels]), [
      [1, IMPORT, 'allowed'], [1, IMPORT, 'allowed'], [1, IMPORT, 'denied'],
    ]);
  });

  test('an inline proto (importing a well-known type), the method type from its service', () => {
    const proto = `syntax = "proto3";
      import "google/protobuf/timestamp.proto";
      package audit;
      service Log { rpc Write(Entry) returns (Entry); }
      message Entry { string actor = 1; google.protobuf.Timestamp at = 2; }`;
    const binding = inspector({
      proto,
      methods: { '/audit.Log/Write': { deny: [{ field: 'actor', equals: 'root' }, { field: 'at.seconds', below: 1 }] } },
    });
    const root = new protobuf.Root();
    protobuf.parse(proto, root, { keepCase: true });
    const Entry = root.loadSync('google/protobuf/timestamp.proto').lookupType('audit.Entry');
    const write = (fields: object): Outcome =>
      send(binding, call(binding, '/audit.Log/Write'), encodeGrpcFrame(Entry.encode(Entry.fromObject(fields)).finish()),
           true).outcome;
    assert.equal(write({ actor: 'ann', at: { seconds: 1700000000 } }), HookOutcome.Continue);
    assert.equal(write({ actor: 'root', at: { seconds: 5 } }), HookOutcome.Replied);
    assert.equal(write({ actor: 'ann', at: { seconds: 0 } }), HookOutcome.Replied);
    // An absent message field has no fields to match.
    assert.equal(write({ actor: 'ann' }), HookOutcome.Continue);
  });

  test('protoFile is resolved against the directory of the bundle holding the filter', () => {
    const binding = inspector({ protoFile: relative(__dirname, PROTO_FILE), methods: { [CREATE]: {} } });
    const s = call(binding);
    assert.equal(send(binding, s, order(CLEAN), true).outcome, HookOutcome.Continue);
  });

  test('a bad config is rejected when it loads, naming the field', () => {
    const create = (rule: object): object => ({ protoFile: PROTO_FILE, methods: { [CREATE]: { deny: [rule] } } });
    for (const [config, message] of [
      [{ protoFile: PROTO_FILE }, /config\.methods is required/],
      [{ methods: { [CREATE]: {} } }, /config needs exactly one of proto .* and protoFile/],
      [{ ...CONFIG, proto: 'syntax = "proto3";' }, /config needs exactly one of proto .* and protoFile/],
      [{ protoFile: '/nonexistent/shop.proto', methods: { [CREATE]: {} } },
        /config\.protoFile: cannot load \/nonexistent\/shop\.proto: ENOENT/],
      [{ proto: 'syntax = "proto3"; mesage X {}', methods: { [CREATE]: {} } }, /config\.proto: illegal token 'mesage'/],
      [{ proto: 'syntax = "proto3"; message X { Y y = 1; }', methods: { '/X/Y': { message: 'X' } } },
        /config\.proto: no such Type or Enum 'Y'/],
      [{ proto: 'syntax = "proto3"; import "other.proto"; message X {}', methods: { '/X/Y': { message: 'X' } } },
        /config\.proto: it imports "other\.proto"/],
      [{ protoFile: PROTO_FILE, methods: { 'shop.Orders/Create': {} } }, /config\.methods property name must be valid/],
      [{ protoFile: PROTO_FILE, methods: { '/shop.Orders/Cancel': {} } },
        /config\.methods\.\/shop\.Orders\/Cancel\.message is required: the proto declares no rpc Cancel/],
      [{ protoFile: PROTO_FILE, methods: { [CREATE]: { message: 'shop.Order' } } },
        /config\.methods\.\/shop\.Orders\/Create\.message: the proto has no message type 'shop\.Order'/],
      [{ protoFile: PROTO_FILE, methods: { [CREATE]: { message: 'shop.Item' } } },
        /declares the request of \/shop\.Orders\/Create as shop\.CreateOrder, not shop\.Item/],
      [create({ field: 'amount' , above: 1 }),
        /config\.methods\.\/shop\.Orders\/Create\.deny\[0\]\.field: shop\.CreateOrder has no field 'amount'/],
      [create({ field: 'items.price', above: 1 }), /deny\[0\]\.field: shop\.Item has no field 'price'/],
      [create({ field: 'note.length', above: 1 }), /deny\[0\]\.field: 'note' is not a message/],
      [create({ field: 'items', equals: 'x' }), /deny\[0\]\.field: 'items' is a message \(shop\.Item\)/],
      [create({ field: 'labels', equals: 'x' }), /deny\[0\]\.field: 'labels' is a map, name a key/],
      [create({ field: 'amount_cents' }), /deny\[0\] must have exactly one of equals, in, matches, above, below/],
      [create({ field: 'amount_cents', above: 1, below: 0 }), /deny\[0\] must have exactly one of/],
      [create({ field: 'amount_cents', equals: '5' }), /deny\[0\]\.equals must be a number: field 'amount_cents' is int64/],
      [create({ field: 'gift', in: [true, 'yes'] }), /deny\[0\]\.in\[1\] must be a boolean/],
      [create({ field: 'channel', in: ['WEB', 'FAX'] }), /deny\[0\]\.in\[1\]: shop\.Channel has no value "FAX"/],
      [create({ field: 'note', above: 3 }), /deny\[0\]\.above: field 'note' is string, not numeric/],
      [create({ field: 'amount_cents', matches: '1' }), /deny\[0\]\.matches: field 'amount_cents' is int64, not string/],
      [create({ field: 'note', matches: '(' }), /deny\[0\]\.matches: Invalid regular expression/],
      [create({ field: 'note', equal: 'x' }), /config\.methods\.\/shop\.Orders\/Create\.deny\[0\]\.equal is not a known field/],
      [{ ...CONFIG, maxMessageBytes: 0 }, /config\.maxMessageBytes must be >= 1/],
    ] as const) {
      assert.throws(() => inspector(config), message);
    }
  });
});

import assert from 'node:assert/strict';
import { dirname, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';

import * as protobuf from 'protobufjs';

import { createTestChain, type TestResponse } from '../../testing';
import { encodeGrpcFrame } from '../grpc-inspect';
import * as filters from '../index';

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

type Chain = Awaited<ReturnType<typeof createTestChain>>;

function inspector(config: unknown = CONFIG): Promise<Chain> {
  return createTestChain({ filters, chain: [{ name: 'grpc-inspect', config }] });
}

/** A gRPC call whose request body arrives as `chunks` (then `trailers`, if any). */
function call(chain: Chain, chunks: readonly Uint8Array[], path = CREATE, contentType = 'application/grpc',
              trailers?: Record<string, string>): Promise<TestResponse> {
  return chain.request({ method: 'POST', path, headers: { 'content-type': contentType, te: 'trailers' },
                         body: chunks.map((chunk) => Uint8Array.from(chunk)), ...(trailers ? { trailers } : {}) });
}

/** What reached the upstream, in the pieces the filter let go. */
function passed(res: TestResponse): Buffer[] {
  return (res.upstreamRequest?.bodyPieces ?? []).map((piece) => Buffer.from(piece));
}

function assertRefused(res: TestResponse, status: number, message: RegExp): void {
  assert.equal(res.localReply, true);
  assert.deepEqual(passed(res), [], 'no byte of the refused message reached the upstream');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/grpc');
  assert.equal(res.headers.get('grpc-status'), String(status));
  assert.match(decodeURIComponent(res.headers.get('grpc-message') ?? ''), message);
}

describe('grpc-inspect', () => {
  test('messages split at every byte position go on unchanged, each once it is whole', async () => {
    const frames = [order(CLEAN), order({ ...CLEAN, amount_cents: 999_999, note: 'ünïcödé' }), order({})];
    const body = Buffer.concat(frames);
    const ends: number[] = [];
    for (const frame of frames) ends.push((ends.at(-1) ?? 0) + frame.length);
    const chain = await inspector();
    for (let cut = 1; cut < body.length; cut++) {
      const res = await call(chain, [body.subarray(0, cut), body.subarray(cut)]);
      const whole = Math.max(0, ...ends.filter((end) => end <= cut));
      const pieces = passed(res);
      assert.deepEqual(whole === 0 ? Buffer.alloc(0) : pieces[0], body.subarray(0, whole),
                       `cut at ${cut}: only whole messages go on`);
      assert.deepEqual(Buffer.concat(pieces), body, `cut at ${cut}`);
      assert.equal(res.localReply, false);
    }
    const res = await call(chain, [...body].map((byte) => Uint8Array.of(byte)));
    assert.deepEqual(Buffer.concat(passed(res)), body, 'byte by byte');
    assert.equal(passed(res).length, frames.length, 'each message goes on once it is whole');
    await chain.close();
  });

  test('several messages in one chunk: all checked, a denied one refuses the chunk', async () => {
    const chain = await inspector();
    const allowed = Buffer.concat([order(CLEAN), order(CLEAN), order({ amount_cents: 5000 })]);
    assert.deepEqual(passed(await call(chain, [allowed], IMPORT)), [allowed]);
    const refused = await call(chain, [Buffer.concat([order(CLEAN), order({ amount_cents: 5001 })])], IMPORT);
    assert.equal(refused.localReply, true);
    assert.deepEqual(passed(refused), [], 'nothing of the refused chunk went on');
    assert.equal(refused.status, 200);
    assert.equal(refused.headers.get('grpc-status'), '7');
    assert.match(decodeURIComponent(refused.headers.get('grpc-message') ?? ''), /^denied: amount_cents above 5000$/);
    assert.equal(refused.details, 'grpc_inspect_denied');
    await chain.close();
  });

  test('each kind of rule refuses with PERMISSION_DENIED; the rest passes', async () => {
    const chain = await inspector();
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
      const res = await call(chain, [order({ ...CLEAN, ...fields })]);
      assert.equal(res.localReply, true, JSON.stringify(fields));
      assert.deepEqual(passed(res), [], JSON.stringify(fields));
      assert.equal(res.headers.get('grpc-status'), '7');
      assert.match(decodeURIComponent(res.headers.get('grpc-message') ?? ''), message);
    }
    const passing = order({ ...CLEAN, amount_cents: 1_000_000, channel: 'PHONE', note: 'script', gift: false,
                            labels: { team: 'test' }, coupons: ['FREE10'], items: [{ sku: 'BANNED-NOT' }] });
    assert.deepEqual(passed(await call(chain, [passing])), [passing]);
    await chain.close();
  });

  test('grpc-message is percent-encoded UTF-8', async () => {
    const chain = await inspector();
    const res = await call(chain, [order({ amount_cents: 2_000_000 })]);
    assert.equal(res.headers.get('grpc-message'), 'montant trop %C3%A9lev%C3%A9: 100%25 refus%C3%A9');
    await chain.close();
  });

  test('nothing of a denied message goes on, even when earlier chunks held its start', async () => {
    const chain = await inspector();
    const allowed = order(CLEAN);
    const denied = order({ ...CLEAN, amount_cents: 9000 });
    const res = await call(chain, [Buffer.concat([allowed, denied.subarray(0, 7)]), denied.subarray(7, 9),
                                   denied.subarray(9)], IMPORT);
    assert.deepEqual(passed(res), [allowed]);
    assert.equal(res.localReply, true);
    assert.equal(res.headers.get('grpc-status'), '7');
    assert.match(decodeURIComponent(res.headers.get('grpc-message') ?? ''), /amount_cents above 5000/);
    await chain.close();
  });

  test('malformed, truncated, oversized and compressed messages are refused', async () => {
    const chain = await inspector({ ...CONFIG, maxMessageBytes: 64 });
    const cases: [Uint8Array, number, RegExp][] = [
      [Uint8Array.of(2, 0, 0, 0, 0), 3, /^malformed gRPC frame: invalid compressed flag 2$/],
      [encodeGrpcFrame(Uint8Array.of(0x0a, 0x05, 0x61)), 3, /^the message is not a valid shop\.CreateOrder: index out of range/],
      [order(CLEAN).subarray(0, 10), 3, /^the request ended inside a message$/],
      [encodeGrpcFrame(new Uint8Array(65)), 8, /^received message larger than max \(65 vs\. 64\)$/],
      [encodeGrpcFrame(CreateOrder.encode({}).finish(), true), 12, /^compressed messages are not accepted/],
    ];
    for (const [data, status, message] of cases) {
      assertRefused(await call(chain, [data]), status, message);
    }
    const compressed = await call(chain, [encodeGrpcFrame(CreateOrder.encode({}).finish(), true)]);
    assert.equal(compressed.headers.get('grpc-accept-encoding'), 'identity');
    // A request that ends with trailers inside a message.
    const cut = await call(chain, [order(CLEAN).subarray(0, 3)], CREATE, 'application/grpc', { 'x-end': '1' });
    assert.equal(cut.localReply, true);
    assert.equal(cut.headers.get('grpc-status'), '3');
    assert.match(decodeURIComponent(cut.headers.get('grpc-message') ?? ''), /ended inside a message/);
    await chain.close();
  });

  test('inspects application/grpc(+proto) on configured paths only; other codecs of them are refused', async () => {
    const chain = await inspector();
    assert.equal((await call(chain, [order({ gift: true })], CREATE, 'application/grpc+proto')).localReply, true);
    assert.equal((await call(chain, [order({ gift: true })], `${CREATE}?x=1`)).localReply, true);

    const garbage = Uint8Array.of(9, 9, 9);
    assert.deepEqual(Buffer.concat(passed(await call(chain, [garbage], '/shop.Other/Create'))), Buffer.from(garbage));

    const json = await call(chain, [], CREATE, 'application/grpc+json');
    assertRefused(json, 12, /content-type application\/grpc\+json is not inspected/);
    const plain = await call(chain, [], CREATE, 'application/json');
    assert.equal(plain.localReply, true);
    assert.equal(plain.status, 415);
    await chain.close();
  });

  test('counts each decision by method', async () => {
    const chain = await inspector();
    await call(chain, [Buffer.concat([order(CLEAN), order(CLEAN)]), order({ amount_cents: 6000 })], IMPORT);
    assert.equal(chain.metrics.get('grpc-inspect.decisions', { method: IMPORT, decision: 'allowed' }), 2);
    assert.equal(chain.metrics.get('grpc-inspect.decisions', { method: IMPORT, decision: 'denied' }), 1);
    assert.equal(chain.metrics.get('grpc-inspect.decisions', { method: CREATE, decision: 'allowed' }), 0);
    await chain.close();
  });

  test('an inline proto (importing a well-known type), the method type from its service', async () => {
    const proto = `syntax = "proto3";
      import "google/protobuf/timestamp.proto";
      package audit;
      service Log { rpc Write(Entry) returns (Entry); }
      message Entry { string actor = 1; google.protobuf.Timestamp at = 2; }`;
    const chain = await inspector({
      proto,
      methods: { '/audit.Log/Write': { deny: [{ field: 'actor', equals: 'root' }, { field: 'at.seconds', below: 1 }] } },
    });
    const root = new protobuf.Root();
    protobuf.parse(proto, root, { keepCase: true });
    const Entry = root.loadSync('google/protobuf/timestamp.proto').lookupType('audit.Entry');
    const refused = async (fields: object): Promise<boolean> =>
      (await call(chain, [encodeGrpcFrame(Entry.encode(Entry.fromObject(fields)).finish())], '/audit.Log/Write')).localReply;
    assert.equal(await refused({ actor: 'ann', at: { seconds: 1700000000 } }), false);
    assert.equal(await refused({ actor: 'root', at: { seconds: 5 } }), true);
    assert.equal(await refused({ actor: 'ann', at: { seconds: 0 } }), true);
    // An absent message field has no fields to match.
    assert.equal(await refused({ actor: 'ann' }), false);
    await chain.close();
  });

  test('protoFile is resolved against the directory of the bundle holding the filter', async () => {
    // In process the filters stand for a bundle at /envoy-ts-testing/filters.js: a built bundle
    // resolves the proto next to itself.
    const bundle = resolve(__dirname, '../../../dist/examples/filters.js');
    const chain = await createTestChain({ bundle, chain: [{ name: 'grpc-inspect',
      config: { protoFile: relative(dirname(bundle), PROTO_FILE), methods: { [CREATE]: {} } } }] });
    assert.equal((await call(chain, [order(CLEAN)])).localReply, false);
    await chain.close();
  });

  test('a bad config is rejected when it loads, naming the field', async () => {
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
      await assert.rejects(inspector(config), message);
    }
  });
});

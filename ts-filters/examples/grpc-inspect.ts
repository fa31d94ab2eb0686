// grpc-inspect: decodes each gRPC request message with protobufjs as the body streams through,
// and refuses the call when a message breaks one of the configured rules.
//
// The .proto is compiled when the config loads, so an unknown message type or field rejects the
// config, never a request. gRPC frames each message as a 1-byte compressed flag, a 4-byte
// big-endian length and the message. A message cut by a chunk boundary is held here until its end
// arrives, and only whole messages that passed go on: the upstream never gets a byte of a refused
// one. Refusals are gRPC trailers-only responses (HTTP 200 with grpc-status and grpc-message),
// which gRPC clients report as the call's status.

import { resolve } from 'node:path';

import type * as Protobuf from 'protobufjs';

import {
  ChunkedBytes,
  ConfigError,
  FrameError,
  defineHttpFilter,
  type BodyChunk,
  type ConfigFromSchema,
  type Framing,
  type HttpFilter,
  type HttpFilterContext,
} from 'envoy-ts';

import { anyValue, compileRule, messageOf, typeName, type CompiledRule, type DenyRule,
  type Protobufjs } from './grpc-rules';

export type { DenyRule, RuleValue } from './grpc-rules';

/** grpc-inspect's config, as written in the chain entry. */
export interface GrpcInspectConfig {
  /** The .proto text itself. Exactly one of `proto` and `protoFile`. */
  readonly proto?: string;
  /** A .proto file: absolute, or relative to the directory of the bundle holding this filter. */
  readonly protoFile?: string;
  /** Largest message accepted (default 4 MiB, gRPC's default); larger ones get RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes?: number;
  /** The inspected methods by `:path` (`/package.Service/Method`); other requests pass untouched. */
  readonly methods: Readonly<Record<string, {
    /** The request message type (default: the one the proto's service declares for the method). */
    readonly message?: string;
    readonly deny?: readonly DenyRule[];
  }>>;
}

type Decision = 'allowed' | 'denied' | 'invalid' | 'unsupported';

const GrpcStatus = { InvalidArgument: 3, PermissionDenied: 7, ResourceExhausted: 8, Unimplemented: 12 } as const;

// gRPC's own default limit for a received message.
const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
const FRAME_HEADER_BYTES = 5;
const COMPRESSED = 1;
const NOTHING = new Uint8Array(0);

interface InspectedMethod {
  readonly path: string;
  readonly type: Protobuf.Type;
  readonly rules: readonly CompiledRule[];
}

interface ParsedConfig {
  readonly methods: ReadonlyMap<string, InspectedMethod>;
  readonly framing: Framing;
}

interface Refusal {
  readonly status: number;
  readonly message: string;
  readonly decision: Decision;
}

const ruleValue = { type: ['string', 'number', 'boolean'] } as const;

// Checked when the config loads (Envoy rejects a bad one naming the field); parseConfig then
// checks what needs the proto: types, field paths, and the rules' values against the fields.
const configSchema = {
  type: 'object',
  properties: {
    proto: { type: 'string', minLength: 1 },
    protoFile: { type: 'string', minLength: 1 },
    maxMessageBytes: { type: 'integer', minimum: 1, maximum: 2 ** 32 - 1, default: DEFAULT_MAX_MESSAGE_BYTES },
    methods: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^/[^/?]+/[^/?]+$' },
      additionalProperties: {
        type: 'object',
        properties: {
          message: { type: 'string', minLength: 1 },
          deny: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                field: { type: 'string', pattern: '^[^.]+(\\.[^.]+)*$' },
                equals: ruleValue,
                in: { type: 'array', items: ruleValue, minItems: 1 },
                matches: { type: 'string' },
                above: { type: 'number' },
                below: { type: 'number' },
                message: { type: 'string', minLength: 1 },
              },
              required: ['field'],
              additionalProperties: false,
            },
          },
        },
        additionalProperties: false,
      },
    },
  },
  required: ['methods'],
  additionalProperties: false,
} as const;

let protobufjs: Protobufjs | undefined;

// Loaded when a grpc-inspect config first loads: bundles that do not use the filter do not pay
// protobufjs' start-up (~7 ms per Node environment).
function loadProtobufjs(): Protobufjs {
  protobufjs ??= require('protobufjs') as Protobufjs;
  return protobufjs;
}

function loadRoot(pb: Protobufjs, config: GrpcInspectConfig): Protobuf.Root {
  const { proto, protoFile } = config;
  if ((proto === undefined) === (protoFile === undefined)) {
    throw new ConfigError('config needs exactly one of proto (the .proto text) and protoFile (its path)');
  }
  const options = { keepCase: true };  // rules name fields as the .proto spells them
  if (protoFile !== undefined) {
    // __dirname is the bundle's directory: a .proto shipped beside the bundle is found wherever
    // Envoy runs from.
    const file = resolve(__dirname, protoFile);
    try {
      return new pb.Root().loadSync(file, options);
    } catch (error) {
      throw new ConfigError(`config.protoFile: cannot load ${file}: ${messageOf(error)}`);
    }
  }
  try {
    const root = new pb.Root();
    const { imports = [], weakImports = [] } = pb.parse(proto as string, root, options);
    const imported = [...imports, ...weakImports];
    // Only the files protobufjs ships can be had without a directory to resolve imports in.
    const missing = imported.find((name) => pb.common.get(name) === null);
    if (missing !== undefined) {
      throw new Error(`it imports "${missing}": inline protos can import only google/protobuf/*.proto (use protoFile)`);
    }
    return root.loadSync(imported, options);  // also resolves every type reference
  } catch (error) {
    throw new ConfigError(`config.proto: ${messageOf(error)}`);
  }
}

/** The request type of `path`: the configured `message`, or what the proto's service declares. */
function requestType(pb: Protobufjs, root: Protobuf.Root, path: string, message: string | undefined,
                     where: string): Protobuf.Type {
  const [, serviceName = '', methodName = ''] = path.split('/');
  const service = root.lookup(serviceName);
  const method = service instanceof pb.Service && Object.hasOwn(service.methods, methodName)
    ? service.methods[methodName] : undefined;
  const declared = method?.resolvedRequestType ?? undefined;
  if (message === undefined) {
    if (declared === undefined) {
      throw new ConfigError(`${where}.message is required: the proto declares no rpc ${methodName} in a service ${serviceName}`);
    }
    return declared;
  }
  const named = root.lookup(message);
  if (!(named instanceof pb.Type)) throw new ConfigError(`${where}.message: the proto has no message type '${message}'`);
  if (declared !== undefined && declared !== named) {
    throw new ConfigError(`${where}.message: the proto declares the request of ${path} as ${typeName(declared)}, not ${message}`);
  }
  return named;
}

/** gRPC's framing, as a Framing for envoy-ts' framing helpers. */
function grpcFraming(maxMessageBytes: number): Framing {
  return {
    maxFrameSize: FRAME_HEADER_BYTES + maxMessageBytes,
    frameLength(bytes: ChunkedBytes, start: number): number | undefined {
      const flag = bytes.at(start);
      if (flag > COMPRESSED) throw new FrameError('invalid', `invalid compressed flag ${flag}`);
      const length = bytes.readUint(start + 1, 4);
      if (length === undefined) return undefined;
      if (length > maxMessageBytes) {
        throw new FrameError('too-large', `received message larger than max (${length} vs. ${maxMessageBytes})`);
      }
      return FRAME_HEADER_BYTES + length;
    },
  };
}

/** A gRPC frame (the length-prefixed form of one message on the wire). */
export function encodeGrpcFrame(message: Uint8Array, compressed = false): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_BYTES + message.length);
  frame[0] = compressed ? COMPRESSED : 0;
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, FRAME_HEADER_BYTES);
  return frame;
}

/** Generate the decoders of `type` and of the message types in it now, not on the first request. */
function prepareDecoders(pb: Protobufjs, type: Protobuf.Type, prepared = new Set<Protobuf.Type>()): void {
  if (prepared.has(type)) return;
  prepared.add(type);
  type.setup();
  for (const field of type.fieldsArray) {
    if (field.resolvedType instanceof pb.Type) prepareDecoders(pb, field.resolvedType, prepared);
  }
}

// `config` is schema-checked, its defaults filled in.
function parseConfig(config: ConfigFromSchema<typeof configSchema>): ParsedConfig {
  const pb = loadProtobufjs();
  const root = loadRoot(pb, config);
  const methods = new Map<string, InspectedMethod>();
  for (const [path, method] of Object.entries(config.methods)) {
    const where = `config.methods.${path}`;
    const type = requestType(pb, root, path, method.message, where);
    const rules = (method.deny ?? []).map((rule, i) => compileRule(pb, type, rule, `${where}.deny[${i}]`));
    prepareDecoders(pb, type);
    methods.set(path, { path, type, rules });
  }
  return { methods, framing: grpcFraming(config.maxMessageBytes) };
}

/** Why the message in [start, start + length) of `bytes` is refused, or undefined to let it pass. */
function check(method: InspectedMethod, bytes: ChunkedBytes, start: number, length: number): Refusal | undefined {
  if (bytes.at(start) === COMPRESSED) {
    return { status: GrpcStatus.Unimplemented, decision: 'unsupported',
             message: 'compressed messages are not accepted (send them uncompressed, grpc-encoding identity)' };
  }
  let message: Protobuf.Message;
  try {
    message = method.type.decode(bytes.copy(start + FRAME_HEADER_BYTES, start + length));
  } catch (error) {
    return { status: GrpcStatus.InvalidArgument, decision: 'invalid',
             message: `the message is not a valid ${typeName(method.type)}: ${messageOf(error)}` };
  }
  const rule = method.rules.find(({ path, test }) => anyValue(message, path, 0, test));
  return rule === undefined ? undefined : { status: GrpcStatus.PermissionDenied, decision: 'denied', message: rule.message };
}

function frameRefusal(error: FrameError): Refusal {
  return error.reason === 'too-large'
    ? { status: GrpcStatus.ResourceExhausted, decision: 'invalid', message: error.message }
    : { status: GrpcStatus.InvalidArgument, decision: 'invalid', message: `malformed gRPC frame: ${error.message}` };
}

const TRUNCATED: Refusal = {
  status: GrpcStatus.InvalidArgument, decision: 'invalid', message: 'the request ended inside a message',
};

/** grpc-message is percent-encoded UTF-8: bytes outside printable ASCII, and '%', become %XX. */
function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text)) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25
      ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function refuse(ctx: HttpFilterContext<ParsedConfig>, method: string, refusal: Refusal): void {
  ctx.metrics.increment('decisions', 1, { method, decision: refusal.decision });
  ctx.log.debug('%s refused (grpc-status %d): %s', method, refusal.status, refusal.message);
  const headers: [string, string][] = [
    ['content-type', 'application/grpc'],
    ['grpc-status', String(refusal.status)],
    ['grpc-message', percentEncode(refusal.message)],
  ];
  // As gRPC servers do when refusing a compressed message: name the encodings accepted.
  if (refusal.status === GrpcStatus.Unimplemented) headers.push(['grpc-accept-encoding', 'identity']);
  ctx.respond(200, { headers, details: `grpc_inspect_${refusal.decision}` });
}

/** A stream being inspected. */
interface InspectedStream {
  readonly method: InspectedMethod;
  /** The start of a message whose end has not arrived: taken out of the body, not passed on yet. */
  held: Uint8Array;
}

const streams = new WeakMap<object, InspectedStream>();

/**
 * Check the whole messages in the held bytes followed by `body`; they go on, the incomplete one
 * after them is held. Returns why the request is refused, if it is.
 */
function inspectBody(stream: InspectedStream, body: BodyChunk, ctx: HttpFilterContext<ParsedConfig>): Refusal | undefined {
  const chunks = body.chunks();
  const bytes = new ChunkedBytes(stream.held.length > 0 ? [stream.held, ...chunks] : chunks);
  let complete = 0;
  for (;;) {
    let length: number | undefined;
    try {
      length = ctx.config.framing.frameLength(bytes, complete);
    } catch (error) {
      if (error instanceof FrameError) return frameRefusal(error);
      throw error;
    }
    if (length === undefined || complete + length > bytes.length) break;
    const refusal = check(stream.method, bytes, complete, length);
    if (refusal !== undefined) return refusal;
    ctx.metrics.increment('decisions', 1, { method: stream.method.path, decision: 'allowed' });
    complete += length;
  }
  if (body.endOfStream && complete < bytes.length) return TRUNCATED;

  // The views die with the first edit: copy what is needed first.
  const heldBefore = stream.held;
  stream.held = complete < bytes.length ? bytes.copy(complete) : NOTHING;
  if (complete === 0) {
    body.drain(body.length);
  } else if (complete < bytes.length) {
    body.replace(bytes.copy(0, complete));
  } else if (heldBefore.length > 0) {
    body.prepend(heldBefore);
  }
  return undefined;
}

function isProtoCodec(contentType: string): boolean {
  return contentType === 'application/grpc' || contentType === 'application/grpc+proto';
}

/** Checks gRPC request messages against rules by field (config: GrpcInspectConfig). */
export const grpcInspect: HttpFilter<ParsedConfig> = defineHttpFilter({
  name: 'grpc-inspect',
  configSchema,
  parseConfig,
  metrics: { decisions: { kind: 'counter', labels: ['method', 'decision'] } },
  onRequestHeaders(headers, ctx) {
    const path = (headers.get(':path') ?? '').split('?', 1)[0] as string;
    const method = ctx.config.methods.get(path);
    if (method === undefined) return;
    const contentType = (headers.get('content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
    if (isProtoCodec(contentType)) {
      if (!ctx.endOfStream) streams.set(ctx, { method, held: NOTHING });
      return;
    }
    // Another codec (application/grpc+json) or not gRPC at all: its messages cannot be checked,
    // so it does not get past the inspection. gRPC servers answer 415 to non-gRPC requests.
    if (contentType.startsWith('application/grpc')) {
      refuse(ctx, path, { status: GrpcStatus.Unimplemented, decision: 'unsupported',
                          message: `content-type ${contentType} is not inspected: use application/grpc` });
      return;
    }
    ctx.metrics.increment('decisions', 1, { method: path, decision: 'unsupported' });
    ctx.respond(415, { body: `${path} is a gRPC method: content-type must be application/grpc\n`,
                       details: 'grpc_inspect_unsupported' });
  },
  onRequestBody(body, ctx) {
    const stream = streams.get(ctx);
    if (stream === undefined) return;
    const refusal = inspectBody(stream, body, ctx);
    if (refusal !== undefined) refuse(ctx, stream.method.path, refusal);
  },
  onRequestTrailers(_trailers, ctx) {
    const stream = streams.get(ctx);
    if (stream !== undefined && stream.held.length > 0) refuse(ctx, stream.method.path, TRUNCATED);
  },
});

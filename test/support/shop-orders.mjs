// gRPC requests of the examples' shop.proto (ts-filters/examples/protos), for the tests and the
// bench that drive grpc-inspect.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import protobuf from 'protobufjs';

export const SHOP_PROTO_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
                                            '../../ts-filters/examples/protos/shop.proto');
const CreateOrder = new protobuf.Root().loadSync(SHOP_PROTO_FILE, { keepCase: true }).lookupType('shop.CreateOrder');

/** One shop.CreateOrder message, framed as gRPC sends it (compressed flag 0, big-endian length). */
export function orderFrame(fields) {
  const message = CreateOrder.encode(CreateOrder.fromObject(fields)).finish();
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

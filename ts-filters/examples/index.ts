// The example filters, bundled into dist/examples/filters.js.

export { asyncDelay } from './async-delay';
export { JsonRedactor, bodyRewrite } from './body-rewrite';
export type { BodyRewriteConfig } from './body-rewrite';
export type { AsyncDelayConfig } from './async-delay';
export { encodeGrpcFrame, grpcInspect, type GrpcInspectConfig } from './grpc-inspect';
export { headerAuth } from './header-auth';
export { jwtAuth } from './jwt-auth';
export type { JwtAuthConfig } from './jwt-auth';
export type { HeaderAuthConfig } from './header-auth';
export { rateLimit } from './rate-limit';
export type { RateLimitConfig } from './rate-limit';
export { requestId } from './request-id';
export { connLimit } from './conn-limit';
export type { ConnLimitConfig } from './conn-limit';
export { encodeRpcFrame, rpcRouter } from './rpc-router';
export type { RpcRouterConfig } from './rpc-router';
export { respGuard } from './resp-guard';
export type { RespGuardConfig } from './resp-guard';

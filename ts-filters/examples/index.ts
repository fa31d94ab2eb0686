// The example filters, bundled into dist/examples/filters.js.

export { asyncDelay } from './async-delay';
export type { AsyncDelayConfig } from './async-delay';
export { headerAuth } from './header-auth';
export type { HeaderAuthConfig } from './header-auth';
export { requestId } from './request-id';

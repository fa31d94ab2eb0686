// Symbols shared between separately built bundles. They are registered (Symbol.for) because the
// runtime and a user's filter bundle are different builds, each with its own copy of this file.

/**
 * Brand carried by every HttpFilter definition made by `defineHttpFilter`.
 * @internal
 */
export const kHttpFilter: unique symbol = Symbol.for('envoy-ts.http-filter');

/**
 * Version of the definition shape behind the brand; a runtime accepts only versions it knows.
 * @internal
 */
export const HTTP_FILTER_BRAND_VERSION = 1 as const;

/**
 * Brand carried by every NetworkFilter definition made by `defineNetworkFilter`.
 * @internal
 */
export const kNetworkFilter: unique symbol = Symbol.for('envoy-ts.network-filter');

/**
 * Version of the network definition shape behind the brand.
 * @internal
 */
export const NETWORK_FILTER_BRAND_VERSION = 1 as const;

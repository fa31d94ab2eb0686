// createTestChain: one spec, two engines.

import { createHostChain } from './host';
import { createInProcessChain } from './in-process';
import { chainSetup } from './options';
import type { TestChain, TestChainOptions } from './types';

/**
 * Load a filter chain as Envoy would (config checked against each filter's schema, defaults
 * filled, parseConfig run, metrics declared) and return a chain to send requests through.
 * Rejects with the runtime's own message when the config is invalid.
 *
 * Engine: `options.engine`, else the environment variable ENVOY_TS_TEST_ENGINE, else
 * 'in-process' (the runtime in this process). 'host' runs the real module in the conformance host.
 */
export async function createTestChain(options: TestChainOptions): Promise<TestChain> {
  const setup = chainSetup(options);
  return setup.engine === 'host' ? createHostChain(setup) : createInProcessChain(setup);
}

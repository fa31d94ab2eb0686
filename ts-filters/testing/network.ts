// Network (L4) chains in process: Envoy's network filter manager and tcp_proxy in memory, over
// the runtime's binding. Read filters see the connection's read buffer (it accumulates while the
// chain answers StopIteration); what the chain lets go reaches the upstream once tcp_proxy has
// connected (lazily: the first Continue); writes to the client pass the chain's onWrite hooks.

import type { CloseMode } from '../api/network-filter';
import { NetworkHookKind, NetworkOutcome } from '../runtime/codes';
import type { CloseType } from '../runtime/native';
import type { FakeConnection } from './fake-binding';
import { InProcessRuntime } from './in-process';
import { chainSetup } from './options';
import type { LogEntry, MetricsView, TestChainOptions } from './types';

const realSetImmediate = setImmediate;
const nextMacrotask = (): Promise<void> => new Promise((resolve) => realSetImmediate(resolve));
const CLOSE_MODES: readonly CloseMode[] = ['flush', 'no-flush', 'flush-and-delay', 'abort', 'reset'];
const TCP_PROXY_CLUSTER = 'envoy.tcp_proxy.cluster';

/** Options of createTestNetworkChain: createTestChain's that are not HTTP-only. */
export type TestNetworkChainOptions =
  Pick<TestChainOptions, 'filters' | 'bundle' | 'chain' | 'failurePolicy' | 'settings' | 'timers' | 'logLevel'>;

/** One downstream connection through the chain. */
export interface TestConnection {
  /** The client sends bytes (`end`: then half-closes). Resolves once the chain is done with them. */
  send(data: string | Uint8Array, options?: { end?: boolean }): Promise<void>;
  /** The upstream sends bytes toward the client: they pass the chain's onWrite hooks. */
  reply(data: string | Uint8Array, options?: { end?: boolean }): Promise<void>;
  /** The client closes the connection. */
  closeFromClient(): Promise<void>;
  /** tcp_proxy connected upstream: the chain went past its filters (the first Continue). */
  readonly upstreamConnected: boolean;
  /** The cluster tcp_proxy connects to when a filter chose one (typed filter state envoy.tcp_proxy.cluster), else null. */
  readonly upstreamCluster: string | null;
  /** Bytes that reached the upstream, in order, one entry per delivery. */
  readonly upstreamChunks: readonly Uint8Array[];
  upstreamText(): string;
  /** The client half-closed toward the upstream. */
  readonly upstreamEnded: boolean;
  /** Bytes that reached the client. */
  clientText(): string;
  clientBytes(): Uint8Array;
  /** Bytes the chain holds in the read buffer (not passed on yet). */
  readonly heldBytes: number;
  /** How a filter closed the connection, or null. */
  readonly closedBy: CloseMode | null;
  /** Close events the chain's onClose saw: 'local' (a filter or Envoy closed) or 'remote' (the client). */
  readonly closeEvents: readonly ('local' | 'remote')[];
  /** Envoy's read-disable count: tcp_proxy disables reading when the chain is built and enables it once connected. */
  readonly readDisabled: number;
  readonly metadata: ReadonlyMap<string, string | number | boolean>;
  readonly filterState: ReadonlyMap<string, Uint8Array>;
}

/** A network filter chain under test. */
export interface TestNetworkChain {
  readonly engine: 'in-process';
  /** A new connection from `remoteAddress` (default 10.0.0.1); resolves once onNewConnection is done. */
  connect(options?: { remoteAddress?: string }): Promise<TestConnection>;
  readonly metrics: MetricsView;
  readonly logs: readonly LogEntry[];
  /** A process-wide shared counter (ctx.shared) as all connections see it. */
  sharedCounter(key: string): number;
  readonly now: number;
  advanceTime(ms: number): Promise<void>;
  close(): Promise<void>;
}

const text = (chunks: readonly Uint8Array[]): string => Buffer.concat(chunks).toString('latin1');

class Connection implements TestConnection {
  readonly #runtime: InProcessRuntime;
  readonly #conn: FakeConnection;
  readonly upstreamChunks: Uint8Array[] = [];
  readonly #client: Uint8Array[] = [];
  readonly closeEvents: ('local' | 'remote')[] = [];
  upstreamConnected = false;
  upstreamEnded = false;
  upstreamCluster: string | null = null;
  #pending: (() => void) | undefined;

  constructor(runtime: InProcessRuntime, remoteAddress: string) {
    this.#runtime = runtime;
    this.#conn = runtime.binding.openConnection(1, remoteAddress);
    this.#conn.readDisabled = 1;  // tcp_proxy's, until it connects
    runtime.binding.connectionResumes.set(this.#conn.slot, () => this.#resumed());
  }

  get slot(): number {
    return this.#conn.slot;
  }

  get heldBytes(): number {
    return this.#conn.buffers[0].reduce((n, c) => n + c.length, 0);
  }
  get closedBy(): CloseMode | null {
    return this.#conn.closedWith === undefined ? null : CLOSE_MODES[this.#conn.closedWith] ?? null;
  }
  get readDisabled(): number {
    return this.#conn.readDisabled;
  }
  get metadata(): ReadonlyMap<string, string | number | boolean> {
    return this.#conn.metadata;
  }
  get filterState(): ReadonlyMap<string, Uint8Array> {
    return this.#conn.filterState;
  }
  upstreamText(): string {
    return text(this.upstreamChunks);
  }
  clientText(): string {
    return text(this.#client);
  }
  clientBytes(): Uint8Array {
    return Buffer.concat(this.#client);
  }

  async open(): Promise<void> {
    await this.#run(NetworkHookKind.NewConnection, false);
  }

  async send(data: string | Uint8Array, options: { end?: boolean } = {}): Promise<void> {
    this.#assertOpen('send');
    const bytes = Buffer.from(data);
    if (bytes.length > 0) this.#conn.buffers[0].push(bytes);
    await this.#run(NetworkHookKind.Data, options.end === true);
  }

  async reply(data: string | Uint8Array, options: { end?: boolean } = {}): Promise<void> {
    this.#assertOpen('reply');
    this.write(Buffer.from(data), options.end === true);
    await this.#settled();
  }

  async closeFromClient(): Promise<void> {
    this.#assertOpen('closeFromClient');
    this.#closed('remote');
    await this.#settled();
  }

  /** Bytes toward the client: the chain's onWrite hooks (reverse order), then the client. */
  write(bytes: Uint8Array, endOfStream: boolean): void {
    const conn = this.#conn;
    const outer = conn.buffers[1];
    conn.buffers[1] = [Buffer.from(bytes)];
    conn.inWrite = true;
    try {
      const outcome = this.#runtime.binding.networkHook(conn, NetworkHookKind.Write, endOfStream);
      if (outcome === NetworkOutcome.Continue) this.#client.push(...conn.buffers[1]);
    } finally {
      conn.inWrite = false;
      conn.buffers[1] = outer;
    }
  }

  /** The chain continues: tcp_proxy (connected on the first Continue) gets the read buffer. */
  passOn(endOfStream: boolean): void {
    this.#connectUpstream();
    const held = this.#conn.buffers[0].splice(0);
    if (held.length > 0) this.upstreamChunks.push(Buffer.concat(held));
    if (endOfStream) this.upstreamEnded = true;
  }

  inject(bytes: Uint8Array, endOfStream: boolean): void {
    this.#connectUpstream();
    if (bytes.length > 0) this.upstreamChunks.push(Buffer.from(bytes));
    if (endOfStream) this.upstreamEnded = true;
  }

  chooseCluster(cluster: string): void {
    this.upstreamCluster = cluster;
  }

  /** A filter closed the connection: Envoy raises LocalClose once the call returns. */
  closing(): void {
    realSetImmediate(() => this.#closed('local'));
  }

  #connectUpstream(): void {
    if (this.upstreamConnected) return;
    this.upstreamConnected = true;
    this.#conn.readDisabled--;
  }

  async #run(hook: number, endOfStream: boolean): Promise<void> {
    let outcome: number = this.#runtime.binding.networkHook(this.#conn, hook as 0 | 1 | 2, endOfStream);
    while (outcome === NetworkOutcome.Pending) {
      outcome = await new Promise<number>((resolve) => {
        this.#pending = () => resolve(this.#runtime.binding.resumeConnection(this.#conn));
      });
    }
    if (outcome === NetworkOutcome.Continue && this.#conn.alive) this.passOn(endOfStream);
    await this.#settled();
  }

  #resumed(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.();
  }

  // Envoy's deferred work (a close event) runs before the test looks.
  async #settled(): Promise<void> {
    await nextMacrotask();
    await nextMacrotask();
  }

  #closed(event: 'local' | 'remote'): void {
    if (!this.#conn.alive) return;
    this.closeEvents.push(event);
    this.#runtime.binding.closeEvent(this.#conn, event === 'remote' ? 0 : 1);
    this.#runtime.binding.destroyConnection(this.#conn);
  }

  #assertOpen(what: string): void {
    if (!this.#conn.alive) throw new Error(`envoy-ts/testing: ${what}(): the connection is closed`);
  }
}

/**
 * Load a network (L4) filter chain and open connections through it, in process (the host engine
 * does not run network chains yet). Rejects with the runtime's message when the config is invalid.
 */
export async function createTestNetworkChain(options: TestNetworkChainOptions): Promise<TestNetworkChain> {
  const httpOnly = ['routes', 'upstream', 'clusters', 'bufferLimitBytes', 'engine', 'moduleDir']
    .filter((key) => key in (options as object));
  if (httpOnly.length > 0) {
    throw new TypeError(`envoy-ts/testing: createTestNetworkChain does not take ${httpOnly.join(', ')}`);
  }
  const runtime = new InProcessRuntime(chainSetup({ ...options, engine: 'in-process' }), 1);
  const binding = runtime.binding;
  const { connectionWrite, injectRead, continueReading, closeConnection, setFilterState } = binding;
  const bySlot = new Map<number, Connection>();
  const connectionOf = (slot: number): Connection | undefined => bySlot.get(slot);
  // What Envoy does with the chain's connection calls.
  binding.connectionWrite = (slot, gen, data, endStream) => {
    connectionWrite.call(binding, slot, gen, data, endStream);
    connectionOf(slot)?.write(data, endStream);
  };
  binding.injectRead = (slot, gen, data, endStream) => {
    injectRead.call(binding, slot, gen, data, endStream);
    connectionOf(slot)?.inject(data, endStream);
  };
  binding.continueReading = (slot, gen) => {
    continueReading.call(binding, slot, gen);
    connectionOf(slot)?.passOn(false);
  };
  binding.closeConnection = (slot, gen, type: CloseType) => {
    closeConnection.call(binding, slot, gen, type);
    connectionOf(slot)?.closing();
  };
  binding.setFilterState = (slot, gen, key, value, typed) => {
    setFilterState.call(binding, slot, gen, key, value, typed);
    if (typed && key === TCP_PROXY_CLUSTER) connectionOf(slot)?.chooseCluster(Buffer.from(value).toString());
  };
  return {
    engine: 'in-process',
    connect: async ({ remoteAddress = '10.0.0.1' } = {}) => {
      const connection = new Connection(runtime, remoteAddress);
      bySlot.set(connection.slot, connection);
      await connection.open();
      return connection;
    },
    metrics: runtime.metrics,
    get logs() {
      return runtime.logs;
    },
    sharedCounter: (key) => binding.sharedCounterGet(key),
    get now() {
      return runtime.now;
    },
    advanceTime: (ms) => runtime.advanceTime(ms),
    close: async () => runtime.close(),
  };
}

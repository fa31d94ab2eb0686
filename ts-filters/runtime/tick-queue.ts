// What Node's callback scope does when a call from native returns, done as cheaply as Node does
// it: the native side runs the microtasks itself, and calls the runtime's drainTicks() entry only
// when Node's tick info says process.nextTick callbacks or promise rejections to report are
// queued (node's InternalCallbackScope::Close reads the same two flags).

/** Node's tick info: [has a tick scheduled, has a rejection to warn about]. */
const TICK_INFO_FIELDS = 2;

// The module that hands builtin code Node's internals, by Node release (20: realm, 18: loaders).
// The embedding's main script gets the builtin require, which loads it.
const LOADERS = ['internal/bootstrap/realm', 'internal/bootstrap/loaders'];

interface Loader {
  internalBinding?: (name: string) => { tickInfo?: unknown };
}

/** Node's tick info (internalBinding('task_queue').tickInfo, a Uint8Array over Node's memory), or
 *  undefined where this Node does not offer it (the native side then drains after every call). */
export function tickInfoOf(requireBuiltin: (id: string) => unknown): Uint8Array | undefined {
  for (let i = 0; i < LOADERS.length; i++) {
    try {
      const loader = requireBuiltin(LOADERS[i] as string) as Loader;
      const tickInfo = loader.internalBinding?.('task_queue').tickInfo;
      if (tickInfo instanceof Uint8Array && tickInfo.length >= TICK_INFO_FIELDS) return tickInfo;
    } catch {
      // Not this release's loader.
    }
  }
  return undefined;
}

/** What the runtime needs of `process` to drain ticks. */
export interface TickProcess {
  /** Node's runNextTicks: microtasks, then (when queued) nextTick callbacks and rejection reports. */
  _tickCallback(): void;
}

/**
 * Runs what `process._tickCallback` runs until nothing throws. A nextTick callback that throws is
 * an uncaught exception, as under Node's callback scope: `uncaught(error)` reports it (never the
 * call's failure: the hook's decision stands) and the queue goes on.
 */
export function tickDrainer(proc: TickProcess, uncaught: (error: unknown) => void): () => void {
  const runNextTicks = proc._tickCallback;
  return () => {
    for (;;) {
      try {
        runNextTicks();
        return;
      } catch (error) {
        uncaught(error);
      }
    }
  };
}

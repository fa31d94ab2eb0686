// The runtime's handling of uncaught exceptions and unhandled rejections (DESIGN §6), which bundle
// code can neither remove nor break. It is not a listener: process.emit itself is replaced (a
// read-only, non-configurable property) so that for 'uncaughtException', 'unhandledRejection' and
// 'uncaughtExceptionMonitor' it first calls the runtime's handler, then each listener a bundle
// added, catching and reporting what a listener throws. Node asks process.emit whether an error was
// handled; the answer is always yes, so Node never takes its exit path (which would mark the
// environment exiting), whatever the bundle did with removeListener/removeAllListeners. A
// listener's throw would otherwise escape Node's fatal-exception handler and end the process.

/** What the runtime does with each event. None of these may throw. */
export interface RuntimeErrorHandlers {
  uncaughtException(error: unknown): void;
  unhandledRejection(reason: unknown, promise: unknown): void;
  /** A listener a bundle added for `event` threw `error` (it was caught). */
  listenerThrew(event: string, error: unknown): void;
}

/** What is patched: a `process` (an EventEmitter). */
export interface ErrorEmitter {
  emit(event: string | symbol, ...args: unknown[]): boolean;
  rawListeners(event: string | symbol): unknown[];
}

/** The events whose dispatch is contained. */
export const CONTAINED_EVENTS: readonly string[] = ['uncaughtException', 'unhandledRejection',
  'uncaughtExceptionMonitor'];

/** Replace `proc.emit` so the runtime's handlers always run and listeners cannot throw out. */
export function installErrorHandlers(proc: ErrorEmitter, handlers: RuntimeErrorHandlers): void {
  const emit = proc.emit;
  const rawListeners = proc.rawListeners;
  const runtimeHandler = (event: string, args: unknown[]): void => {
    try {
      if (event === 'uncaughtException') handlers.uncaughtException(args[0]);
      else if (event === 'unhandledRejection') handlers.unhandledRejection(args[0], args[1]);
    } catch {
      // A handler must not throw; if it does, there is nothing left to report it with.
    }
  };
  const contained = (event: string, args: unknown[]): boolean => {
    runtimeHandler(event, args);
    // A copy: a listener may remove itself (once) or others while they run.
    const listeners = [...(Reflect.apply(rawListeners, proc, [event]) as unknown[])];
    for (const listener of listeners) {
      if (typeof listener !== 'function') continue;
      try {
        Reflect.apply(listener, proc, args);
      } catch (error) {
        try {
          handlers.listenerThrew(event, error);
        } catch {
          // as above
        }
      }
    }
    return event === 'uncaughtExceptionMonitor' ? listeners.length > 0 : true;
  };
  const guarded = {
    emit(this: unknown, event: string | symbol, ...args: unknown[]): boolean {
      if (this === proc && typeof event === 'string' && CONTAINED_EVENTS.includes(event)) {
        return contained(event, args);
      }
      // eslint-disable-next-line prefer-rest-params
      return Reflect.apply(emit, this, arguments) as boolean;
    },
  };
  const descriptor = Object.getOwnPropertyDescriptor(proc, 'emit');
  Object.defineProperty(proc, 'emit', {
    value: guarded.emit,
    writable: false,
    enumerable: descriptor?.enumerable ?? false,
    configurable: false,
  });
}

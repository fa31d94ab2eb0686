// Node's async-hooks context stack (what executionAsyncId() and AsyncLocalStorage read). A
// callback that throws, or that the CPU watchdog stops, leaves the frame it pushed; Node clears
// the stack once it has handled such an exception, and the runtime does the same when an entry
// from Envoy ends that way (nothing of Node's runs below the runtime's outermost entry).

interface AsyncWrapBinding {
  clearAsyncIdStack?: () => void;
}

/** What is read of `process`. */
interface ProcessWithBinding {
  noDeprecation?: boolean | undefined;
  binding(name: string): AsyncWrapBinding;
}

/** A function that empties the stack (a no-op where this Node does not offer it). */
export function asyncIdStackClearer(proc: ProcessWithBinding): () => void {
  const quiet = proc.noDeprecation;
  try {
    // process.binding is deprecated (DEP0111): read once, without the warning on stderr.
    proc.noDeprecation = true;
    const binding = proc.binding('async_wrap');
    const clear = binding.clearAsyncIdStack;
    return typeof clear === 'function' ? clear : () => undefined;
  } catch {
    return () => undefined;
  } finally {
    proc.noDeprecation = quiet;
  }
}

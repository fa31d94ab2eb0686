// What the runtime's side of ctx.offload (offload.ts) and the runner on the pool thread
// (offload-runner.ts) agree on.

/** The task piscina runs: the runner, given the task module and export to call. */
export interface RunnerTask {
  /** The task module's absolute path. */
  readonly filename: string;
  /** Its export to call ('default': the module itself when it is a function, else its default). */
  readonly name: string;
  readonly input: unknown;
  /** The id the result is handed to the environment under (Dispatcher.onOffloadDone). */
  readonly taskId: number;
}

/** What the runner returns to piscina when the result went to the environment directly. A result
 *  that goes piscina's way is one the binding could not serialize, which a string never is. */
export const DELIVERED = 'envoy-ts:offload-result-delivered';

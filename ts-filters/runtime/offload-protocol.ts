// What the runtime's side of ctx.offload (offload.ts) sends the runner on the pool thread
// (offload-runner.ts).

/** The task piscina runs: the runner, given the task module and export to call. */
export interface RunnerTask {
  /** The task module's absolute path. */
  readonly filename: string;
  /** Its export to call ('default' unless the offload named one). */
  readonly name: string;
  readonly input: unknown;
}

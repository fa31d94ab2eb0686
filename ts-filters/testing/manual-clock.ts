// A clock the test moves: while a chain with `timers: 'manual'` is open, setTimeout/setInterval
// (global, `node:timers` and `node:timers/promises`) and Date.now() run on it, so a test of a
// timer, a delay or a token bucket advances time instead of sleeping.

import { syncBuiltinESMExports } from 'node:module';
import timers from 'node:timers';
import timersPromises from 'node:timers/promises';

// The kit's own plumbing keeps real macrotasks (never replaced here).
const realSetImmediate = setImmediate;
const nextMacrotask = (): Promise<void> => new Promise((resolve) => realSetImmediate(resolve));

interface Scheduled {
  readonly id: number;
  due: number;
  readonly delayMs: number;
  readonly repeat: boolean;
  readonly run: () => void;
}

/** What setTimeout returns on the manual clock: Node's Timeout methods, as no-ops where time is not real. */
class ManualTimeout {
  readonly #clock: ManualClock;
  readonly id: number;
  constructor(clock: ManualClock, id: number) {
    this.#clock = clock;
    this.id = id;
  }
  ref(): this { return this; }
  unref(): this { return this; }
  hasRef(): boolean { return true; }
  refresh(): this {
    this.#clock.refresh(this.id);
    return this;
  }
  [Symbol.toPrimitive](): number { return this.id; }
}

type Patch = [target: Record<string, unknown>, key: string, value: unknown];

/** The time of one chain's manual clock (ms since it was created, Date.now() from its start). */
export class ManualClock {
  #now = 0;
  readonly #startedAt = Date.now();
  readonly #scheduled = new Map<number, Scheduled>();
  #nextId = 1;
  #restore: Patch[] | undefined;
  static #installed: ManualClock | undefined;

  /** Milliseconds the clock has advanced. */
  get now(): number {
    return this.#now;
  }

  /** Replace the timer functions and Date.now until uninstall(). One manual clock at a time. */
  install(): void {
    if (ManualClock.#installed !== undefined) {
      throw new Error("envoy-ts/testing: another test chain with timers: 'manual' is open; close it first");
    }
    ManualClock.#installed = this;
    const setTimeoutFn = (fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): ManualTimeout =>
      this.#schedule(() => fn(...args), ms, false);
    const setIntervalFn = (fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): ManualTimeout =>
      this.#schedule(() => fn(...args), ms, true);
    const clear = (timer: unknown): void => {
      if (timer !== undefined && timer !== null) this.#scheduled.delete(Number(timer));
    };
    const sleep = (ms?: number, value?: unknown, options?: { signal?: AbortSignal }): Promise<unknown> =>
      this.#sleep(ms, value, options?.signal);
    const patches: Patch[] = [];
    for (const target of [globalThis as unknown as Record<string, unknown>, timers as unknown as Record<string, unknown>]) {
      patches.push([target, 'setTimeout', setTimeoutFn], [target, 'clearTimeout', clear],
                   [target, 'setInterval', setIntervalFn], [target, 'clearInterval', clear]);
    }
    patches.push([timersPromises as unknown as Record<string, unknown>, 'setTimeout', sleep],
                 [Date as unknown as Record<string, unknown>, 'now', () => this.#startedAt + this.#now]);
    this.#restore = patches.map(([target, key]) => [target, key, target[key]]);
    for (const [target, key, value] of patches) target[key] = value;
    syncBuiltinESMExports();  // ES module imports of node:timers see the replacements too
  }

  uninstall(): void {
    if (this.#restore === undefined) return;
    for (const [target, key, value] of this.#restore) target[key] = value;
    syncBuiltinESMExports();
    this.#restore = undefined;
    this.#scheduled.clear();
    ManualClock.#installed = undefined;
  }

  /**
   * Move the clock `ms` forward, running each timer that falls due in order; after each one the
   * promises it settled (and the streams they resume) run before the next.
   */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`advanceTime(ms): ms must be a number >= 0, got ${ms}`);
    const target = this.#now + ms;
    await nextMacrotask();
    for (;;) {
      let next: Scheduled | undefined;
      for (const timer of this.#scheduled.values()) {
        if (timer.due <= target && (next === undefined || timer.due < next.due)) next = timer;
      }
      if (next === undefined) break;
      this.#now = next.due;
      if (next.repeat) next.due += next.delayMs;
      else this.#scheduled.delete(next.id);
      next.run();
      await nextMacrotask();
    }
    this.#now = target;
    await nextMacrotask();
  }

  refresh(id: number): void {
    const timer = this.#scheduled.get(id);
    if (timer !== undefined) timer.due = this.#now + timer.delayMs;
  }

  // Like Node, a delay below 1 ms (or not a number) is 1 ms.
  #schedule(run: () => void, ms: number | undefined, repeat: boolean): ManualTimeout {
    const id = this.#nextId++;
    const delayMs = Math.max(1, Number.isFinite(ms) ? Math.trunc(ms as number) : 1);
    this.#scheduled.set(id, { id, due: this.#now + delayMs, delayMs, repeat, run });
    return new ManualTimeout(this, id);
  }

  #sleep(ms: number | undefined, value: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    const aborted = (): Error => Object.assign(new Error('The operation was aborted'),
                                               { name: 'AbortError', code: 'ABORT_ERR', cause: signal?.reason });
    if (signal?.aborted === true) return Promise.reject(aborted());
    return new Promise((resolve, reject) => {
      const timer = this.#schedule(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      }, ms, false);
      const onAbort = (): void => {
        this.#scheduled.delete(timer.id);
        reject(aborted());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

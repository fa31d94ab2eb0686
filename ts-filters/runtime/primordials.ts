// The builtins the runtime's request path uses, captured when the runtime starts, before any
// bundle runs (as Node core does with its primordials). A filter that replaces one of them
// (`Map.prototype.get = ...`, `Function.prototype.call = ...`) changes what its own code sees, not
// how the runtime dispatches hooks, reads headers, applies the failure policy or records stats.
// Where the request path walks an array it uses an index loop: `for...of` and spreads go through
// the array iterator, which bundle code can replace too. Regular expressions are run with `exec`
// itself: `test`, `replace` and `split` look `exec` up on the expression.

import { format } from 'util';
import { clearTimeout as clearTimer, setTimeout as setTimer } from 'timers';

const { bind, call } = Function.prototype;
// uncurryThis(fn)(self, ...args) is fn.call(self, ...args), with the `call` captured here.
const uncurryThis = bind.bind(call) as <T, A extends unknown[], R>(fn: (this: T, ...args: A) => R) =>
  (self: T, ...args: A) => R;

export const ReflectApply = Reflect.apply;
export const ObjectKeys = Object.keys;
export const ObjectAssign = Object.assign;
export const ObjectPrototypeToString = uncurryThis(Object.prototype.toString) as (value: unknown) => string;
export const ArrayIsArray = Array.isArray;
export const JSONStringify = JSON.stringify;
export const MathMax = Math.max;
export const MathMin = Math.min;
export const MathRound = Math.round;
export const NumberIsInteger = Number.isInteger;

export const MapPrototypeGet = uncurryThis(Map.prototype.get) as <K, V>(map: ReadonlyMap<K, V>, key: K) => V | undefined;
export const MapPrototypeSet = uncurryThis(Map.prototype.set) as <K, V>(map: Map<K, V>, key: K, value: V) => Map<K, V>;
export const MapPrototypeHas = uncurryThis(Map.prototype.has) as <K>(map: ReadonlyMap<K, unknown>, key: K) => boolean;
export const MapPrototypeDelete = uncurryThis(Map.prototype.delete) as <K>(map: Map<K, unknown>, key: K) => boolean;
export const MapPrototypeClear = uncurryThis(Map.prototype.clear) as (map: Map<unknown, unknown>) => void;
export const MapPrototypeForEach = uncurryThis(Map.prototype.forEach) as
  <K, V>(map: ReadonlyMap<K, V>, fn: (value: V, key: K) => void) => void;
export const SetPrototypeHas = uncurryThis(Set.prototype.has) as <T>(set: ReadonlySet<T>, value: T) => boolean;
export const WeakMapPrototypeGet = uncurryThis(WeakMap.prototype.get) as
  <K extends object, V>(map: WeakMap<K, V>, key: K) => V | undefined;
export const WeakMapPrototypeSet = uncurryThis(WeakMap.prototype.set) as
  <K extends object, V>(map: WeakMap<K, V>, key: K, value: V) => WeakMap<K, V>;

export const ArrayPrototypePush = uncurryThis(Array.prototype.push) as <T>(array: T[], ...items: T[]) => number;
export const ArrayPrototypeJoin = uncurryThis(Array.prototype.join) as (array: readonly unknown[], separator: string) => string;
export const ArrayPrototypeConcat = uncurryThis(Array.prototype.concat) as
  <T>(array: readonly T[], ...items: (T | readonly T[])[]) => T[];

export const StringPrototypeToLowerCase = uncurryThis(String.prototype.toLowerCase) as (text: string) => string;
export const StringPrototypeCharCodeAt = uncurryThis(String.prototype.charCodeAt) as (text: string, index: number) => number;
export const StringPrototypeStartsWith = uncurryThis(String.prototype.startsWith) as (text: string, prefix: string) => boolean;
export const StringPrototypeSlice = uncurryThis(String.prototype.slice) as (text: string, start: number, end?: number) => string;
export const RegExpPrototypeExec = uncurryThis(RegExp.prototype.exec) as (pattern: RegExp, text: string) => RegExpExecArray | null;

export const SafePromise = Promise;
export const PromisePrototypeThen = uncurryThis(Promise.prototype.then) as
  <T>(promise: Promise<T>, onFulfilled: (value: T) => unknown, onRejected: (reason: unknown) => unknown) => Promise<unknown>;

/** `promise.then(...)`: for a Promise of this realm, with the `then` captured at start; any other
 *  thenable's own `then`. */
export function thenOf(promise: PromiseLike<unknown>, onFulfilled: (value: unknown) => unknown,
                       onRejected: (reason: unknown) => unknown): void {
  if (promise instanceof SafePromise) PromisePrototypeThen(promise, onFulfilled, onRejected);
  else promise.then(onFulfilled, onRejected);
}

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as Uint8Array;
export const TypedArrayPrototypeSubarray = uncurryThis(TypedArrayPrototype.subarray) as
  (view: Uint8Array, start: number, end: number) => Uint8Array;
export const TypedArrayPrototypeSet = uncurryThis(TypedArrayPrototype.set) as
  (target: Uint8Array, source: Uint8Array, offset: number) => void;

export const performanceNow = performance.now.bind(performance);
export const setTimeout = setTimer;
export const clearTimeout = clearTimer;
export const utilFormat = format;

// Assertions for the type tests. These files are only type-checked, never run: a test passes when
// it compiles, and each `// @ts-expect-error` line must be an error (tsc fails on one that is not).

/** `true` when `A` and `B` are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when `Actual` and `Expected` are the same type: `expectType<typeof x, string>()`. */
export declare function expectType<Actual, Expected>(
  ...same: Equal<Actual, Expected> extends true ? [] : [error: 'the types differ']
): void;

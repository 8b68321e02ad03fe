/**
 * Programmer errors, apart from operating errors. An operating error (bad input, a short
 * balance, a state the caller must handle) is a catalog error that a refusal answers; a broken
 * invariant means the code is wrong, so it throws an `AssertionError`, which no catch treats as
 * a refusal: it crashes loudly in tests and is a 500 (logged) on the wire.
 */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

/** Asserts an invariant: throws an `AssertionError` saying `message` when `condition` is falsy. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** For a branch the code never takes (a value no case handles): always an `AssertionError`. */
export function unreachable(message: string): never {
  throw new AssertionError(message);
}

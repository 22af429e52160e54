/**
 * Assertions state invariants the code relies on. A failed assertion is a bug in Weir, never bad
 * input: it is thrown as `AssertionError`, never caught and never turned into a `WeirError`.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError'
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message)
}

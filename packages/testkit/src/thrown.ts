/**
 * What a synchronous call threw, for asserting on a typed error's class, code
 * and message together; fails the test if it did not throw.
 */
export function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (err) {
    return err;
  }
  throw new Error("it did not throw");
}

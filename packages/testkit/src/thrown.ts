import { AdapterArgumentError } from "@persistent-queue/core";
import { expect } from "vitest";

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

/**
 * Asserts that `call` throws the adapters' typed refusal of a wrong argument:
 * an {@link AdapterArgumentError} with its code, naming `adapter`, whose message
 * matches `expected` (what the adapter takes) and `says` (what it saw), and
 * that never prints the password "s3cret" the tests put in connection strings.
 */
export function expectRefused(
  call: () => unknown,
  adapter: string,
  expected: RegExp,
  says: RegExp,
): void {
  const err = thrown(call);
  expect(err).toBeInstanceOf(AdapterArgumentError);
  expect(err).toMatchObject({ code: "ERR_PQ_ADAPTER_ARGUMENT", adapter });
  const { message } = err as AdapterArgumentError;
  expect(message).toMatch(expected);
  expect(message).toMatch(says);
  expect(message).not.toContain("s3cret");
}

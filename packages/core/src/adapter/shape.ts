import { AdapterArgumentError } from "../errors.js";

/**
 * A value's own members for a by-shape check: adapters recognise a driver's
 * pool or client by its methods, because no adapter imports its driver at run
 * time. Anything but an object or function reads as having no members.
 */
export function membersOf(value: unknown): Record<string, unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null
    ? (value as Record<string, unknown>)
    : {};
}

/** True when `value` has every named member as a function, and is not a Promise (await it first). */
export function hasMethods(value: unknown, ...names: string[]): boolean {
  const members = membersOf(value);
  return typeof members.then !== "function" && names.every((n) => typeof members[n] === "function");
}

/**
 * An adapter's argument or state check in one line: throws an
 * `AdapterArgumentError` ("`adapter`: expected `expected`; got …") unless
 * `ok`. `hint` says what to pass instead; left out, the error names a driver
 * object it recognises in `got` (a raw pool given to an ORM adapter).
 */
export function expectArgument(
  ok: boolean,
  adapter: string,
  expected: string,
  got: unknown,
  hint?: string,
): asserts ok {
  if (!ok) throw new AdapterArgumentError(adapter, expected, got, hint);
}

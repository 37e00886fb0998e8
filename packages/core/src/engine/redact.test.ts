import { describe, expect, it } from "vitest";
import { redactError } from "./redact.js";

/** An error whose statement properties are read-only, as postgres.js defines them. */
class FrozenStatementError extends Error {
  readonly code = "42601";
  constructor(message: string, query: string, parameters: unknown[]) {
    super(message);
    for (const [key, value] of Object.entries({ query, parameters, args: parameters })) {
      Object.defineProperty(this, key, { value, enumerable: false });
    }
  }
}

describe("redactError", () => {
  it("blanks the statement and values a driver attached, on the error itself", () => {
    const err = Object.assign(new Error("boom at postgres://app:pw@db/x"), {
      sql: "UPDATE t SET a = 'secret'",
      parameters: ["secret"],
    });
    const redacted = redactError(err);
    expect(redacted).toBe(err);
    expect(redacted).toMatchObject({ sql: /redacted/, parameters: /redacted/ });
    expect(redacted.message).toBe("boom at postgres://***@db/x");
  });

  it("returns a copy of the same class when the driver made them read-only, also along the cause chain", () => {
    const frozen = new FrozenStatementError("syntax error", "UPDATE t SET a = $1", ["secret"]);
    const redacted = redactError(frozen);
    expect(redacted).not.toBe(frozen);
    expect(redacted).toBeInstanceOf(FrozenStatementError);
    expect(redacted).toMatchObject({ message: "syntax error", code: "42601", query: /redacted/ });
    expect(Object.getOwnPropertyDescriptor(redacted, "parameters")?.enumerable).toBe(false);
    expect(
      JSON.stringify([redacted.parameters, (redacted as unknown as { args: unknown }).args]),
    ).not.toContain("secret");

    const wrapped = new Error("claim failed", { cause: frozen });
    expect(redactError(wrapped)).toBe(wrapped);
    expect(wrapped.cause).toBeInstanceOf(FrozenStatementError);
    expect(wrapped.cause).toMatchObject({ query: /redacted/, parameters: /redacted/ });
  });
});

import { describe, expect, it } from "vitest";
import { AdapterArgumentError } from "../errors.js";
import { expectArgument } from "./shape.js";

describe("expectArgument", () => {
  it("passes when ok, else throws an AdapterArgumentError with the hint, or a recognised driver", () => {
    expect(() => expectArgument(true, "fromX", "an X", undefined)).not.toThrow();
    let err: unknown;
    try {
      expectArgument(false, "fromX", "an open X", "x.db", "Pass new X(file).");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AdapterArgumentError);
    expect(err).toMatchObject({
      adapter: "fromX",
      message: "fromX: expected an open X; got a string. Pass new X(file).",
    });
    expect(() => expectArgument(false, "fromX", "an X", null)).toThrow(
      /^fromX: expected an X; got null\.$/,
    );
  });
});

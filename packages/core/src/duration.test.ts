import { describe, expect, it } from "vitest";
import { parseDuration } from "./duration.js";
import { ConfigError } from "./errors.js";

describe("parseDuration", () => {
  it.each([
    [250, 250],
    ["250", 250],
    ["500ms", 500],
    ["10s", 10_000],
    ["3m", 180_000],
    ["1h", 3_600_000],
    ["1d", 86_400_000],
    ["1m30s", 90_000],
    ["1.5s", 1500],
    [" 2 m ", 120_000],
  ])("%j is %d ms", (text, ms) => {
    expect(parseDuration("waitTime", text)).toBe(ms);
  });

  it.each([
    [-1],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    ["soon"],
    ["10 parsecs"],
    ["5x"],
    [""],
    [null],
    [{}],
    ["1y"],
  ])("rejects %j with a ConfigError naming the field", (bad) => {
    expect(() => parseDuration("jobs[0].waitTime", bad)).toThrow(ConfigError);
    expect(() => parseDuration("jobs[0].waitTime", bad)).toThrow(
      /^jobs\[0\]\.waitTime: must be a non-negative duration/,
    );
  });

  it("rejects zero where a positive duration is needed, and absurd lengths", () => {
    expect(() => parseDuration("leaseTime", 0, { allowZero: false })).toThrow(/positive duration/);
    expect(() => parseDuration("delay", "999999d")).toThrow(/at most 100 years/);
  });
});

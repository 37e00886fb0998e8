import { describe, expect, it } from "vitest";
import { makeBackoff } from "./retry.js";

describe("backoff", () => {
  it("fixed: always waitTime (the seed's behaviour)", () => {
    const b = makeBackoff(undefined, 3000, 60_000, () => 0.5);
    expect([2, 3, 10].map((a) => b(a, null))).toEqual([3000, 3000, 3000]);
    expect(makeBackoff({ type: "fixed" }, 50, 60_000, Math.random)(7, null)).toBe(50);
  });

  it("exponential without jitter doubles from waitTime and stops at the cap", () => {
    const b = makeBackoff({ type: "exponential", jitter: false }, 1000, 5000, () => 0.5);
    expect([2, 3, 4, 5, 6, 60].map((a) => b(a, null))).toEqual([
      1000, 2000, 4000, 5000, 5000, 5000,
    ]);
  });

  it("exponential with full jitter draws uniformly below the exponential ceiling (injected randomness)", () => {
    const draws = [0, 0.25, 0.999];
    let i = 0;
    const b = makeBackoff({ type: "exponential" }, 1000, 60_000, () => draws[i++]!);
    expect([b(4, null), b(4, null), b(4, null)]).toEqual([0, 1000, 3996]);
  });

  it("a custom function decides, and a nonsense answer falls back to waitTime", () => {
    const b = makeBackoff(
      (attempt, error) => (error === "slow" ? attempt * 100 : Number.NaN),
      700,
      60_000,
      Math.random,
    );
    expect(b(3, "slow")).toBe(300);
    expect(b(3, "other")).toBe(700);
  });
});

import { describe, expect, it } from "vitest";
import { MAX_SHORT_PREFETCH, shortJobsPrefetch } from "./claimer.js";

describe("shortJobsPrefetch (a limited type's claim-ahead by default)", () => {
  it("claims nothing ahead before a run has ended", () => {
    expect(shortJobsPrefetch(16, undefined)).toBe(0);
  });
  it("claims a capacity ahead for jobs far shorter than 10 ms", () => {
    expect(shortJobsPrefetch(16, 0)).toBe(16);
    expect(shortJobsPrefetch(16, 0.05)).toBe(16);
    expect(shortJobsPrefetch(16, 10)).toBe(16);
  });
  it("claims ahead what the slots finish within about 10 ms, and nothing for slow jobs", () => {
    expect(shortJobsPrefetch(16, 20)).toBe(8);
    expect(shortJobsPrefetch(16, 160)).toBe(1);
    expect(shortJobsPrefetch(16, 161)).toBe(0);
    expect(shortJobsPrefetch(2, 150)).toBe(0);
    expect(shortJobsPrefetch(100, 1000)).toBe(1);
  });
});

describe("shortJobsPrefetch with a larger bound (an unlimited type's claim-ahead by default)", () => {
  it("claims up to the bound ahead for jobs of microseconds, what 10 ms of runs finish in between", () => {
    expect(shortJobsPrefetch(16, 0.001, MAX_SHORT_PREFETCH)).toBe(MAX_SHORT_PREFETCH);
    expect(shortJobsPrefetch(16, 0.5, MAX_SHORT_PREFETCH)).toBe(320);
    expect(shortJobsPrefetch(16, 5, MAX_SHORT_PREFETCH)).toBe(32);
    expect(shortJobsPrefetch(16, 200, MAX_SHORT_PREFETCH)).toBe(0);
  });
});

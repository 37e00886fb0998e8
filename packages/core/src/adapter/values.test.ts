import { describe, expect, it } from "vitest";
import { bindParams, insertIdOf, normaliseRows, normaliseValue, replaceCells } from "./values.js";

describe("the one integer rule", () => {
  it("a bigint that fits a safe integer becomes a number; a larger one stays an exact bigint", () => {
    expect(normaliseValue(BigInt(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(normaliseValue(BigInt(Number.MIN_SAFE_INTEGER))).toBe(Number.MIN_SAFE_INTEGER);
    expect(normaliseValue(9007199254740993n)).toBe(9007199254740993n);
    expect(normaliseValue("9007199254740993")).toBe("9007199254740993"); // a driver's digit string stays
  });

  it("copies only rows that hold a bigint, and leaves the driver's rows untouched", () => {
    const plain = { n: 1 };
    const big = Object.freeze({ n: 2n, s: "x" });
    const [a, b] = normaliseRows<Record<string, unknown>>([plain, big]);
    expect(a).toBe(plain);
    expect(b).toEqual({ n: 2, s: "x" });
    expect(big.n).toBe(2n);
  });
});

describe("replacing cells", () => {
  it("returns the row itself when no cell is picked, else a copy with the picked cells changed", () => {
    const row = Object.freeze({ a: 1, b: "x", c: 2 });
    const isNumber = (cell: unknown) => typeof cell === "number";
    expect(replaceCells(row, (cell) => cell === null, String)).toBe(row);
    const copy = replaceCells(row, isNumber, (cell) => Number(cell) * 10);
    expect(copy).toEqual({ a: 10, b: "x", c: 20 });
    expect(row).toEqual({ a: 1, b: "x", c: 2 });
  });
});

describe("insert ids", () => {
  it("count only after an INSERT or REPLACE that added a row, and never as 0", () => {
    expect(insertIdOf("  insert into t values (1)", 1, 7n)).toBe(7);
    expect(insertIdOf("REPLACE INTO t VALUES (1)", 1, 8)).toBe(8);
    expect(insertIdOf("UPDATE t SET v = 1", 1, 7)).toBeUndefined();
    expect(insertIdOf("INSERT INTO t VALUES (1)", 0, 7)).toBeUndefined();
    expect(insertIdOf("INSERT INTO t VALUES (1)", 1, 0)).toBeUndefined();
  });
});

describe("binding", () => {
  it("booleans bind as 1/0 everywhere; Dates as UTC text on SQLite only; bigints as text only where asked", () => {
    const at = new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 6));
    expect(bindParams([true, false, at], "postgres")).toEqual([1, 0, at]);
    expect(bindParams([at], "sqlite")).toEqual(["2030-01-02 03:04:05.006"]);
    expect(bindParams([5n, 9007199254740993n], "sqlite", { bigintUnsupported: true })).toEqual([
      5,
      "9007199254740993",
    ]);
    expect(bindParams([9007199254740993n], "sqlite")).toEqual([9007199254740993n]);
  });
});

import type { DialectFamily, SqlValue } from "../db.js";

// The value rules every adapter applies, in one place, so that the same
// query gives the same JavaScript values whichever adapter ran it.

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const MIN = BigInt(Number.MIN_SAFE_INTEGER);

/**
 * THE integer rule, for result cells and insert ids: a `bigint` that fits in
 * a JavaScript safe integer (|v| ≤ 2^53 − 1) becomes a `number`; a larger one
 * stays a `bigint`, exact. Everything else is returned as it is (drivers that
 * give digit strings for BIGINT, as mysql2's bigNumberStrings or pg do, keep
 * giving strings). The engine reads ids and counts with `Number(v)`, which
 * takes all three; a caller that needs past 2^53 reads `BigInt(String(v))`,
 * which is exact for all three too. A bigint is kept rather than turned into
 * a string so that `typeof` still says "integer" and arithmetic stays exact.
 */
export function normaliseValue(value: unknown): unknown {
  return typeof value === "bigint" && value <= MAX && value >= MIN ? Number(value) : value;
}

/**
 * `row` with every cell that `pick` chooses replaced by `change(cell)`. A row
 * with no such cell is returned as it is; one with any is copied, so a
 * driver's cached or frozen row is never written to. For the rules that
 * rewrite result cells: core's bigints, an ORM's own value types.
 */
export function replaceCells(
  row: object,
  pick: (cell: unknown) => boolean,
  change: (cell: unknown) => unknown,
): object {
  // A plain loop with for…in: this runs on every row the engine reads (claims of
  // hundreds of rows), and most rows need no change, so nothing is allocated for them.
  let copy: Record<string, unknown> | undefined;
  for (const key in row) {
    const cell = (row as Record<string, unknown>)[key];
    if (pick(cell)) {
      copy ??= { ...row };
      copy[key] = change(cell);
    }
  }
  return copy ?? row;
}

const isBigint = (cell: unknown): boolean => typeof cell === "bigint";

/** Applies {@link normaliseValue} to every cell, by {@link replaceCells}. */
export function normaliseRows<T>(rows: readonly unknown[]): T[] {
  return rows.map((row) =>
    row === null || typeof row !== "object" ? row : replaceCells(row, isBigint, normaliseValue),
  ) as T[];
}

/**
 * A `Date` as SQLite stores and compares time: UTC text
 * `YYYY-MM-DD HH:MM:SS.SSS`, what its own date functions produce (no driver
 * for SQLite binds a Date as that; better-sqlite3 refuses Dates altogether).
 */
export const sqliteTime = (date: Date): string =>
  date.toISOString().replace("T", " ").replace("Z", "");

/**
 * For drivers that cannot bind a `bigint` (sqlite3 binds NULL, Prisma's
 * SQLite adapter a rounded double): a number when exact, else its decimal
 * text, which an INTEGER column stores back as the exact integer.
 */
export const bigintAsNumberOrText = (value: bigint): number | string => {
  const n = normaliseValue(value);
  return typeof n === "number" ? n : value.toString();
};

/** Options of {@link bindParams}. */
export interface BindOptions {
  /** The driver cannot bind a bigint: send {@link bigintAsNumberOrText}. */
  readonly bigintUnsupported?: boolean | undefined;
}

/**
 * Parameters as the driver needs them. Core binds only {@link SqlValue}s, but
 * a caller's own statement through the same DB may carry a boolean: it binds
 * as 1/0 everywhere (PostgreSQL will not compare a boolean with an integer
 * column). On SQLite a `Date` binds as {@link sqliteTime}. Everything else
 * passes through untouched.
 */
export function bindParams(
  params: readonly SqlValue[],
  family: DialectFamily,
  options: BindOptions = {},
): unknown[] {
  return params.map((p: unknown) => {
    if (typeof p === "boolean") return p ? 1 : 0;
    if (family === "sqlite" && p instanceof Date) return sqliteTime(p);
    if (options.bigintUnsupported && typeof p === "bigint") return bigintAsNumberOrText(p);
    return p;
  });
}

/** A statement that adds rows and so may report a generated id: INSERT or REPLACE. */
export const isInsert = (sql: string): boolean => /^\s*(insert|replace)\b/i.test(sql);

/**
 * The insert id to report, or undefined. Drivers report the connection's last
 * generated id after any statement (SQLite's lastInsertRowid survives an
 * UPDATE; MySQL says 0), so it counts only after an INSERT/REPLACE that added
 * a row, and a 0 means none. Normalised by {@link normaliseValue}.
 */
export function insertIdOf(
  sql: string,
  affectedRows: number,
  id: unknown,
): number | bigint | string | undefined {
  if (affectedRows === 0 || id === undefined || id === null || !isInsert(sql)) return undefined;
  const value = normaliseValue(id);
  if (value === 0 || value === "0") return undefined;
  return typeof value === "number" || typeof value === "bigint" || typeof value === "string"
    ? value
    : undefined;
}

import { ConfigError } from "./errors.js";

/** A duration: milliseconds, or text such as `"500ms"`, `"10s"`, `"3m"`, `"1h"`, `"1d"`, `"1m30s"`. */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/gy;

/**
 * Parses a {@link Duration} to whole milliseconds, or throws a
 * {@link ConfigError} naming `field`. Hand-written rather than a dependency:
 * the common parsers return undefined or NaN on bad input, and we need a
 * typed error that says what to change.
 */
export function parseDuration(field: string, value: unknown, { allowZero = true } = {}): number {
  let ms: number | undefined;
  if (typeof value === "number") ms = value;
  else if (typeof value === "string") {
    const text = value.trim();
    if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text);
    else {
      PART.lastIndex = 0;
      let total = 0;
      let consumed = 0;
      for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
        total += Number(m[1]) * UNIT_MS[m[2]!]!;
        consumed = PART.lastIndex;
        while (text[PART.lastIndex] === " ") PART.lastIndex++;
      }
      if (consumed > 0 && consumed === text.length) ms = total;
    }
  }
  if (ms === undefined || !Number.isFinite(ms) || ms < 0 || (!allowZero && ms === 0)) {
    throw new ConfigError(
      field,
      `must be a ${allowZero ? "non-negative" : "positive"} duration: milliseconds as a number, or text like "500ms", "10s", "3m", "1h", "1d" (got ${describe(value)}).`,
    );
  }
  if (ms > MAX_DURATION_MS) {
    throw new ConfigError(field, `must be at most 100 years (got ${describe(value)}).`);
  }
  return Math.round(ms);
}

const MAX_DURATION_MS = 100 * 365 * 86_400_000;

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean")
    return String(value);
  return value === null ? "null" : typeof value;
}

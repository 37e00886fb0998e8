import {
  JOB_STATUS_NAMES,
  JOB_STATUS_ORDER,
  JobStatus,
  MAX_LIST_LIMIT,
} from "@persistent-queue/core";
import { badInput } from "./errors.js";

/** Status names the API takes (core's lower-case names, and "waiting" for init), by code. */
export const STATUS_NAMES: Readonly<Record<string, JobStatus>> = {
  ...Object.fromEntries(JOB_STATUS_ORDER.map((status) => [JOB_STATUS_NAMES[status], status])),
  waiting: JobStatus.Init,
};

const STATUS_HELP =
  "use init, success, failed, continue, retry, running or cancelled (or their codes 0 to 6), comma-separated for several";

/** `status=failed,cancelled` or `status=2,6`: a non-empty list of statuses. */
export function parseStatuses(value: string): JobStatus[] {
  const out: JobStatus[] = [];
  for (const part of value.split(",")) {
    const p = part.trim().toLowerCase();
    if (p === "") continue;
    if (/^[0-6]$/.test(p)) out.push(Number(p) as JobStatus);
    else if (p in STATUS_NAMES) out.push(STATUS_NAMES[p]!);
    else throw badInput("status", `"${part}" is not a job status; ${STATUS_HELP}.`);
  }
  if (out.length === 0) throw badInput("status", `is empty; ${STATUS_HELP}, or leave it out.`);
  return [...new Set(out)];
}

/** A job type's integer, as the seed's INT column holds it (-2147483648 to 2147483647). */
export function parseJobType(value: string, field = "type"): number {
  const n = /^-?[0-9]{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= -2_147_483_648 && n <= 2_147_483_647))
    throw badInput(
      field,
      `"${value}" is not a job type; give its integer (-2147483648 to 2147483647).`,
    );
  return n;
}

/** A job id: a positive safe integer. */
export function parseId(value: unknown, field = "id"): number {
  const n =
    typeof value === "number"
      ? value
      : typeof value === "string" && /^[1-9][0-9]{0,15}$/.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw badInput(field, `${JSON.stringify(value)} is not a job id; give a positive integer.`);
  return n;
}

/** A time bound: ISO 8601 text or unix milliseconds. */
export function parseTime(value: string, field: string): Date {
  const d = /^[0-9]{1,15}$/.test(value) ? new Date(Number(value)) : new Date(value);
  if (value.trim() === "" || Number.isNaN(d.getTime()))
    throw badInput(
      field,
      `"${value}" is not a time; give ISO 8601 (2026-11-29T10:00:00Z) or unix milliseconds.`,
    );
  return d;
}

/** Page size: 1 to MAX_LIST_LIMIT. */
export function parseLimit(value: string): number {
  const n = /^[0-9]{1,4}$/.test(value) ? Number(value) : 0;
  if (n < 1 || n > MAX_LIST_LIMIT)
    throw badInput(
      "limit",
      `"${value}" is not a page size; give an integer from 1 to ${MAX_LIST_LIMIT}.`,
    );
  return n;
}

/** The keyset cursor: a `nextCursor` handed out by the jobs list. */
export function parseCursor(value: string): string {
  if (!/^[1-9][0-9]{0,15}$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw badInput(
      "cursor",
      "is not a cursor; pass back the nextCursor of the previous page unchanged.",
    );
  return value;
}

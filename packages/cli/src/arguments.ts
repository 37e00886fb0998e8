import { type Duration, JobStatus, MAX_LIST_LIMIT, parseDuration } from "@persistent-queue/core";
import { InvalidArgumentError } from "commander";
import { STATUS_NAMES } from "./output.js";

const BY_NAME = new Map<string, JobStatus>(
  Object.entries(STATUS_NAMES).map(([code, name]) => [name, Number(code) as JobStatus]),
);

/**
 * `--status` values: names (`failed`) or codes (`2`), comma-separated, any
 * case; "waiting" is accepted for init. Throws commander's
 * InvalidArgumentError (exit 2) naming the accepted values.
 */
export function parseStatuses(text: string): JobStatus[] {
  const out: JobStatus[] = [];
  for (const part of text.split(",")) {
    const word = part.trim().toLowerCase();
    const status = /^\d+$/.test(word)
      ? Number(word)
      : word === "waiting"
        ? JobStatus.Init
        : BY_NAME.get(word);
    if (status === undefined || STATUS_NAMES[status] === undefined)
      throw new InvalidArgumentError(
        `"${part.trim()}" is not a job status; use ${[...BY_NAME.keys()].join(", ")} (or their codes 0-6), comma-separated.`,
      );
    if (!out.includes(status)) out.push(status);
  }
  return out;
}

/** `prune --status`: only the final statuses success, failed, cancelled. Throws InvalidArgumentError (exit 2). */
export function parsePrunable(text: string): JobStatus[] {
  const statuses = parseStatuses(text);
  for (const status of statuses)
    if (![JobStatus.Success, JobStatus.Failed, JobStatus.Cancelled].includes(status))
      throw new InvalidArgumentError(
        `${STATUS_NAMES[status]} jobs are not finished, and only finished jobs are pruned: use success, failed or cancelled (cancel unfinished jobs first).`,
      );
  return statuses;
}

/** A positive job id. Throws InvalidArgumentError (exit 2). */
export function parseId(text: string): number {
  const id = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 1)
    throw new InvalidArgumentError(`"${text}" is not a job id; a job id is a positive integer.`);
  return id;
}

/** An integer (a job type may be negative). Throws InvalidArgumentError (exit 2). */
export function parseInteger(text: string): number {
  const n = /^-?\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`"${text}" is not an integer.`);
  return n;
}

/** The range of the job_type INT column. */
const MIN_JOB_TYPE = -2_147_483_648;
const MAX_JOB_TYPE = 2_147_483_647;

/**
 * A job type: the integer of its definition (`defineJob({ jobType })`), as
 * the job_type INT column holds it (-2147483648 to 2147483647). Names are not
 * accepted: the command runs no job definitions. Throws InvalidArgumentError (exit 2).
 */
export function parseJobType(text: string): number {
  const n = /^-?\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= MIN_JOB_TYPE && n <= MAX_JOB_TYPE))
    throw new InvalidArgumentError(
      `"${text}" is not a job type; a job type is the integer of its definition (defineJob({ jobType })), ${MIN_JOB_TYPE} to ${MAX_JOB_TYPE}.`,
    );
  return n === 0 ? 0 : n; // "-0" is 0
}

/** Job types for commands that take several: each parsed, as they accumulate, without repeats. */
export function collectJobType(text: string, previous: number[] = []): number[] {
  const jobType = parseJobType(text);
  return previous.includes(jobType) ? previous : [...previous, jobType];
}

/** Ids for commands that take several: each parsed, as they accumulate. */
export function collectId(text: string, previous: number[] = []): number[] {
  return [...previous, parseId(text)];
}

/**
 * `--older-than`: a duration with a unit ("7d", "12h", "1h30m") or 0 for
 * every finished job. A bare number other than 0 is refused: "7" would mean
 * 7 ms. Throws InvalidArgumentError (exit 2).
 */
export function parseOlderThan(text: string): Duration {
  const value = text.trim();
  if (value === "0") return 0;
  const hint = 'a duration with a unit, e.g. "7d", "12h", "30m" or "1h30m" (0: every finished job)';
  if (/^\d+(\.\d+)?$/.test(value))
    throw new InvalidArgumentError(`"${text}" has no unit; write ${hint}.`);
  try {
    parseDuration("--older-than", value);
  } catch {
    throw new InvalidArgumentError(`"${text}" is not ${hint}.`);
  }
  return value;
}

/** `jobs list --limit`: 1 to core's MAX_LIST_LIMIT (500). Throws InvalidArgumentError (exit 2). */
export function parseLimit(text: string): number {
  const n = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= MAX_LIST_LIMIT))
    throw new InvalidArgumentError(
      `"${text}" is not a page size; use 1 to ${MAX_LIST_LIMIT}, and --cursor for the next page.`,
    );
  return n;
}

import { PersistentQueueError } from "../errors.js";

/** Which of a run's outputs a {@link JobOutputError} is about. */
export type JobOutputField = "result" | "progress";

/**
 * A handler's result or progress value cannot be stored: it is not
 * JSON-serialisable (`code` ERR_PQ_OUTPUT_NOT_JSON: a BigInt, a cycle, a
 * function) or its JSON is larger than the job type's limit
 * (ERR_PQ_OUTPUT_TOO_LARGE; `bytes` says how large, `limit` the limit). A
 * result that fails so fails its job (final, the result is not stored); a
 * progress value is rejected by `ctx.progress()` and the run goes on.
 */
export class JobOutputError extends PersistentQueueError {
  readonly field: JobOutputField;
  /** The size of the value's JSON in UTF-8 bytes, when it had one. */
  readonly bytes: number | undefined;
  /** The job type's limit for this field, in bytes. */
  readonly limit: number;

  constructor(
    field: JobOutputField,
    limit: number,
    bytes: number | undefined,
    options?: { cause?: unknown },
  ) {
    const option = field === "result" ? "maxResultBytes" : "maxProgressBytes";
    super(
      bytes === undefined ? "ERR_PQ_OUTPUT_NOT_JSON" : "ERR_PQ_OUTPUT_TOO_LARGE",
      bytes === undefined
        ? `the job's ${field} is not JSON-serialisable${causeText(options?.cause)}: return plain objects, arrays, strings, numbers, booleans or null.`
        : `the job's ${field} is ${bytes} bytes of JSON, over the job type's limit of ${limit} (${option}): store large outputs elsewhere and return a reference, or raise ${option}.`,
      options,
    );
    this.field = field;
    this.bytes = bytes;
    this.limit = limit;
  }
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) return ` (${cause.message})`;
  if (cause === undefined) return "";
  return ` (${String(cause)})`;
}

/**
 * `value` as the JSON text stored in the `result` or `progress` column, at
 * most `limit` UTF-8 bytes; throws {@link JobOutputError} otherwise. A value
 * JSON has no text for (undefined, a function, a symbol) is not serialisable.
 */
export function serialiseOutput(field: JobOutputField, value: unknown, limit: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new JobOutputError(field, limit, undefined, { cause: error });
  }
  if (text === undefined)
    throw new JobOutputError(field, limit, undefined, {
      cause: `JSON has no text for ${typeof value}`,
    });
  // Cheap first: a string of n UTF-16 units is at most 3n UTF-8 bytes.
  if (text.length * 3 > limit) {
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > limit) throw new JobOutputError(field, limit, bytes);
  }
  return text;
}

/** JSON text read from the `result` or `progress` column: its value, undefined for NULL or text that is not JSON. */
export function parseOutput(text: unknown): unknown {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.parse(String(text));
  } catch {
    return undefined;
  }
}

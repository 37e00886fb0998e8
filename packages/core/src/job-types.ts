import type { ResolvedJobSpec } from "./config.js";
import { JobInputError } from "./enqueue.js";
import type { AnyJobSpec } from "./job.js";

/**
 * The job types a queue lists, by integer and by name, and how a reference
 * to one (its integer, its name or its definition) turns into its integer
 * and the schema that validates its params.
 */
export class JobTypes {
  constructor(
    readonly specs: ReadonlyMap<number, ResolvedJobSpec>,
    readonly names: ReadonlyMap<string, ResolvedJobSpec>,
  ) {}

  /**
   * The jobs with each `jobType` (integer, name or definition) turned into its
   * integer, and the specs to validate them by: this queue's, plus those of
   * definitions passed that it does not list.
   */
  resolveRefs(
    jobs: readonly { readonly jobType: unknown; readonly params?: unknown }[],
  ): [
    { jobType: number; params: unknown; delay?: never; startTime?: never }[],
    ReadonlyMap<number, ResolvedJobSpec>,
  ] {
    if (!Array.isArray(jobs)) throw new JobInputError("jobs", "must be an array.");
    let specs: Map<number, ResolvedJobSpec> | undefined;
    const out = jobs.map((job, i) => {
      if (job === null || typeof job !== "object")
        throw new JobInputError(
          jobs.length === 1 ? "job" : `jobs[${i}]`,
          "must be an object { jobType, params }.",
        );
      const spec = this.resolveRef(
        job.jobType,
        jobs.length === 1 ? "jobType" : `jobs[${i}].jobType`,
      );
      if (spec.name !== undefined && !this.specs.has(spec.jobType) && spec.schema) {
        specs ??= new Map(this.specs);
        specs.set(spec.jobType, spec as ResolvedJobSpec);
      }
      return { ...(job as object), jobType: spec.jobType } as never;
    });
    return [out, specs ?? this.specs];
  }

  /** A job type reference (integer, name or definition) as this queue knows it. */
  resolveRef(
    ref: unknown,
    field: string,
  ): { jobType: number; name?: string; schema?: ResolvedJobSpec["schema"] } {
    if (typeof ref === "number") return this.specs.get(ref) ?? { jobType: ref }; // range checked at insert
    if (typeof ref === "string") {
      const spec = this.names.get(ref);
      if (spec) return spec;
      const known = [...this.names.keys()];
      throw new JobInputError(
        field,
        `no job type is named "${ref}" in this queue's jobs${known.length ? ` (names: ${known.slice(0, 20).join(", ")})` : ""}. List its definition in the queue's jobs, or pass the integer job type.`,
      );
    }
    if (
      ref !== null &&
      typeof ref === "object" &&
      typeof (ref as AnyJobSpec).jobType === "number"
    ) {
      const def = ref as AnyJobSpec;
      const listed = this.specs.get(def.jobType);
      if (listed && def.name !== undefined && listed.name !== def.name) {
        throw new JobInputError(
          field,
          `the definition named "${def.name}" has job type ${def.jobType}, which this queue lists as "${listed.name}".`,
        );
      }
      return (
        listed ?? {
          jobType: def.jobType,
          name: def.name ?? `job-${def.jobType}`,
          schema: def.schema,
        }
      );
    }
    throw new JobInputError(
      field,
      `must be a job type's integer, its name, or its definition (got ${ref === null ? "null" : typeof ref}).`,
    );
  }
}

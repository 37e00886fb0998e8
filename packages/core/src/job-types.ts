import { type ResolvedJobSpec, resolveJobSpec } from "./config.js";
import { JobInputError, type LooseJob } from "./enqueue.js";
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
    jobs: readonly (Omit<LooseJob, "jobType"> & { readonly jobType: unknown })[],
  ): [LooseJob[], ReadonlyMap<number, ResolvedJobSpec>] {
    if (!Array.isArray(jobs)) throw new JobInputError("jobs", "must be an array.");
    let specs: Map<number, ResolvedJobSpec> | undefined;
    const out = jobs.map((job, i) => {
      const at = jobs.length === 1 ? "" : `jobs[${i}].`;
      if (job === null || typeof job !== "object")
        throw new JobInputError(`${at}job`, "must be an object { jobType, params }.");
      const spec = this.resolveRef(job.jobType, `${at}jobType`);
      // A definition the queue does not list still validates its params by its schema.
      if (spec.schema && !this.specs.has(spec.jobType)) {
        specs ??= new Map(this.specs);
        specs.set(spec.jobType, spec);
      }
      return { ...job, jobType: spec.jobType };
    });
    return [out, specs ?? this.specs];
  }

  /** A job type reference (integer, name or definition) as this queue knows it. */
  resolveRef(ref: unknown, field: string): ResolvedJobSpec | { jobType: number; schema?: never } {
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
      return listed ?? resolveJobSpec(def, field); // checked as the queue checks its own
    }
    throw new JobInputError(
      field,
      `must be a job type's integer, its name, or its definition (got ${ref === null ? "null" : typeof ref}).`,
    );
  }
}

import { countJobs, type JobCount, JobStatus } from "@persistent-queue/core";
import type { Command } from "commander";
import { collectJobType } from "./arguments.js";
import { type Context, type GlobalOptions, withQueue } from "./context.js";
import { printJson, renderTable } from "./output.js";

type WithJson = GlobalOptions & { json?: boolean };

/** A job type as `types list --json` prints it. */
export interface JobTypeSummary {
  /** The job type's integer. */
  readonly jobType: number;
  /** Paused (by `types pause` or `queue.pause()`): no process claims its jobs. */
  readonly paused: boolean;
  /** Jobs waiting to run: init, retry and continue, due or delayed. */
  readonly waiting: number;
  /** Jobs a worker is running now. */
  readonly running: number;
  /** All its jobs in the job table, finished ones included. */
  readonly total: number;
}

const WAITING: readonly number[] = [JobStatus.Init, JobStatus.Retry, JobStatus.Continue];

/**
 * One summary per job type that has jobs in the job table or is paused
 * (a paused type with no jobs yet is listed too), ascending by job type.
 */
export function summarizeTypes(
  counts: readonly JobCount[],
  paused: readonly number[],
): JobTypeSummary[] {
  const types = new Map<number, { waiting: number; running: number; total: number }>();
  const entry = (jobType: number) => {
    let t = types.get(jobType);
    if (!t) {
      t = { waiting: 0, running: 0, total: 0 };
      types.set(jobType, t);
    }
    return t;
  };
  for (const c of counts) {
    const t = entry(c.jobType);
    t.total += c.count;
    if (WAITING.includes(c.status)) t.waiting += c.count;
    if (c.status === JobStatus.Running) t.running += c.count;
  }
  for (const jobType of paused) entry(jobType);
  return [...types.entries()]
    .sort(([a], [b]) => a - b)
    .map(([jobType, t]) => ({ jobType, paused: paused.includes(jobType), ...t }));
}

/** What `types pause|resume` did to one job type. */
interface TypeOutcome {
  readonly jobType: number;
  /** Whether the type is paused now. */
  readonly paused: boolean;
  /** False when it already was in that state (the command is idempotent). */
  readonly changed: boolean;
}

/** Adds `types list|pause|resume` to the program. */
export function addTypesCommands(program: Command, ctx: Context): void {
  const types = program
    .command("types")
    .description("list job types and pause or resume them across every process");
  const globals = (cmd: Command) => cmd.optsWithGlobals<WithJson>();

  types
    .command("list")
    .description("job types in the job table, whether each is paused, and its waiting jobs")
    .option("--json", "print JSON: one { jobType, paused, waiting, running, total } per job type")
    .action(async (_opts, cmd: Command) => {
      const o = globals(cmd);
      const summaries = await withQueue(ctx, o, async ({ queue, db, tables }) =>
        summarizeTypes(await countJobs(db, { tables }), await queue.pausedTypes()),
      );
      if (o.json) return printJson(ctx.io, summaries);
      if (summaries.length === 0) return ctx.io.out("No job types: the job table has no jobs.\n");
      const count = (n: number) => ({
        text: String(n),
        style: n === 0 ? ctx.io.color.dim : undefined,
      });
      ctx.io.out(
        renderTable(
          ctx.io,
          ["JOB TYPE", "STATE", "WAITING", "RUNNING", "TOTAL"],
          summaries.map((t) => [
            String(t.jobType),
            t.paused
              ? { text: "paused", style: ctx.io.color.yellow }
              : { text: "active", style: ctx.io.color.green },
            count(t.waiting),
            count(t.running),
            String(t.total),
          ]),
          ["right", "left", "right", "right", "right"],
        ),
      );
    });

  const ACTIONS = {
    pause: {
      paused: true,
      describe:
        "stop every process from claiming jobs of these types until resumed (running jobs finish; adding still works)",
      done: "paused",
      already: "paused (it already was)",
    },
    resume: {
      paused: false,
      describe: "let every process claim jobs of these paused types again",
      done: "resumed",
      already: "not paused (nothing to resume)",
    },
  } as const;

  for (const action of ["pause", "resume"] as const) {
    const a = ACTIONS[action];
    types
      .command(action)
      .description(a.describe)
      .argument("<jobTypes...>", "job types (their integers)", collectJobType)
      .option("--json", "print JSON: one { jobType, paused, changed } per job type")
      .action(async (jobTypes: number[], _opts, cmd: Command) => {
        const o = globals(cmd);
        const outcomes = await withQueue(ctx, o, async ({ queue }) => {
          const before = new Set(await queue.pausedTypes());
          const out: TypeOutcome[] = [];
          for (const jobType of jobTypes) {
            await queue[action](jobType);
            out.push({ jobType, paused: a.paused, changed: before.has(jobType) !== a.paused });
          }
          return out;
        });
        if (o.json) return printJson(ctx.io, outcomes);
        for (const x of outcomes)
          ctx.io.out(
            `job type ${x.jobType}: ${x.changed ? ctx.io.color.green(a.done) : a.already}\n`,
          );
      });
  }
}

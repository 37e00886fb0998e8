import {
  JobActionError,
  JobNotFoundError,
  type JobRecord,
  JobStatus,
  type PersistentQueue,
} from "@persistent-queue/core";
import type { Command } from "commander";
import { collectId, parseId, parseInteger, parseLimit, parseStatuses } from "./arguments.js";
import type { Context, GlobalOptions } from "./context.js";
import { withQueue } from "./context.js";
import { describeError, ExitCode } from "./errors.js";
import { type Io, printJson, renderTable, statusCell, statusName, time } from "./output.js";

/**
 * Ids one `jobs list` page looks at when no index serves its filters (a search, a
 * status without a type): on a table of 1,000,000 jobs, a tenth, about 0.1 s.
 */
const SCAN_LIMIT = 100_000;

/** Unix seconds (the seed's create_time and update_time) as a time. */
const timeSec = (sec: number) => time(sec * 1000);

/** When a job runs next: its due time, "now" when a waiting job is due, "-" when it never runs again. */
function runAt(job: JobRecord): string {
  const waiting = [JobStatus.Init, JobStatus.Continue, JobStatus.Retry].includes(job.status);
  if (!waiting) return "-";
  return job.runAt > Date.now() ? time(job.runAt) : "now";
}

/** A job as `--json` prints it: the record, plus its status's name. */
const jobJson = (job: JobRecord) => ({ ...job, statusName: statusName(job.status) });

/** The actions `jobs` offers on ids, their past tense, and why one may not apply. */
const ACTIONS = {
  retry: {
    done: "queued again",
    describe: "run failed or cancelled jobs again (attempts reset, due now)",
    notApplied: "only a failed or cancelled job is retried",
  },
  cancel: {
    done: "cancelled",
    describe: "cancel waiting, retrying or running jobs (a running handler is aborted)",
    notApplied: "it has already finished",
  },
  promote: {
    done: "made due now",
    describe: "make delayed waiting jobs due now",
    notApplied: "only a waiting job that is not yet due is promoted",
  },
  remove: {
    done: "removed",
    describe: "delete jobs that are not running (cancel a running job first)",
    notApplied: "it was not removed",
  },
} as const;

type ActionName = keyof typeof ACTIONS;

/** Adds `jobs list|show|retry|cancel|promote|remove` to the program. */
export function addJobsCommands(
  program: Command,
  ctx: Context,
  setExit: (code: ExitCode) => void,
): void {
  const jobs = program.command("jobs").description("list, show and act on jobs");
  const globals = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>();

  jobs
    .command("list")
    .description("list jobs, newest first")
    .option("-t, --type <jobType>", "only this job type (its integer)", parseInteger)
    .option(
      "-s, --status <statuses>",
      "only these statuses, comma-separated: init, running, retry, continue, success, failed, cancelled",
      parseStatuses,
    )
    .option("--search <text>", "only jobs whose params JSON contains this text (any case)")
    .option("-n, --limit <n>", "jobs per page, 1 to 500", parseLimit, 50)
    .option("--cursor <cursor>", "the next page: the cursor a previous page printed")
    .option("--json", "print JSON: { jobs, nextCursor }")
    .action(async (_opts, cmd: Command) => {
      const o = globals(cmd) as GlobalOptions & {
        json?: boolean;
        type?: number;
        status?: JobStatus[];
        search?: string;
        limit: number;
        cursor?: string;
      };
      const page = await withQueue(ctx, o, ({ queue }) =>
        queue.listJobs({
          jobType: o.type,
          status: o.status,
          search: o.search,
          limit: o.limit,
          cursor: o.cursor,
          scanLimit: SCAN_LIMIT,
        }),
      );
      if (o.json)
        return printJson(ctx.io, {
          jobs: page.jobs.map(jobJson),
          nextCursor: page.nextCursor ?? null,
          scannedDownTo: page.scannedDownTo ?? null,
        });
      const scanned =
        page.scannedDownTo === undefined
          ? ""
          : `Looked at jobs down to id ${page.scannedDownTo} (${SCAN_LIMIT.toLocaleString("en")} ids per page); older ones: add --cursor ${page.nextCursor}\n`;
      if (page.jobs.length === 0) return ctx.io.out(`No jobs match.\n${scanned}`);
      ctx.io.out(
        renderTable(
          ctx.io,
          ["ID", "TYPE", "STATUS", "ATTEMPTS", "RUN AT", "UPDATED", "PARAMS", "LAST ERROR"],
          page.jobs.map((j) => [
            String(j.id),
            String(j.jobType),
            statusCell(ctx.io, j.status),
            String(j.attempts),
            runAt(j),
            timeSec(j.updateTime),
            j.rawParams,
            { text: j.lastError ?? "", style: ctx.io.color.red },
          ]),
          ["right", "right", "left", "right"],
        ),
      );
      if (scanned) ctx.io.out(ctx.io.color.dim(scanned));
      else if (page.nextCursor)
        ctx.io.out(ctx.io.color.dim(`More jobs: add --cursor ${page.nextCursor}\n`));
    });

  jobs
    .command("show")
    .description("show one job: every column, its params, result and progress")
    .argument("<id>", "the job's id", parseId)
    .option("--json", "print the job as JSON")
    .action(async (id: number, _opts, cmd: Command) => {
      const o = globals(cmd);
      const job = await withQueue(ctx, o, ({ queue }) => queue.getJob(id));
      if (!job) {
        ctx.io.err(`error: no job has id ${id}; it was never added, or was removed or pruned.\n`);
        return setExit(ExitCode.Failed);
      }
      if (o.json) return printJson(ctx.io, jobJson(job));
      printJob(ctx.io, job);
    });

  for (const action of Object.keys(ACTIONS) as ActionName[]) {
    jobs
      .command(action)
      .description(ACTIONS[action].describe)
      .argument("<ids...>", "job ids", collectId)
      .option("--json", "print JSON: one { id, applied, status, error } per id")
      .action(async (ids: number[], _opts, cmd: Command) => {
        const o = globals(cmd);
        const outcomes = await withQueue(ctx, o, async ({ queue }) => {
          const out: Outcome[] = [];
          for (const id of ids) out.push(await act(queue, action, id));
          return out;
        });
        if (outcomes.some((x) => !x.applied)) setExit(ExitCode.Failed);
        if (o.json) return printJson(ctx.io, outcomes);
        for (const x of outcomes) {
          if (x.applied) ctx.io.out(`job ${x.id}: ${ACTIONS[action].done}\n`);
          else
            ctx.io.err(
              ctx.io.errColor.red(`job ${x.id}: not ${ACTIONS[action].done}: ${x.error}\n`),
            );
        }
      });
  }
}

/** What one action did to one job. */
interface Outcome {
  readonly id: number;
  readonly applied: boolean;
  /** The job's status after the call (null when there is no such job). */
  readonly status: string | null;
  /** Why it did not apply. */
  readonly error?: string;
}

async function act(queue: PersistentQueue, action: ActionName, id: number): Promise<Outcome> {
  try {
    const applied = await queue[action](id);
    const job = action === "remove" ? undefined : await queue.getJob(id);
    const status = job ? statusName(job.status) : null;
    if (applied) return { id, applied, status };
    return {
      id,
      applied,
      status,
      error: `${ACTIONS[action].notApplied} (it is ${status ?? "gone"}${
        action === "promote" && job && job.status !== JobStatus.Running
          ? `, due ${time(job.runAt)}`
          : ""
      }).`,
    };
  } catch (error) {
    if (error instanceof JobNotFoundError)
      return { id, applied: false, status: null, error: `no job has id ${id}.` };
    if (error instanceof JobActionError)
      // a running job for remove, a unique key taken for retry
      return { id, applied: false, status: null, error: describeError(error) };
    throw error; // the database: the whole command fails
  }
}

function printJob(io: Io, job: JobRecord): void {
  const json = (v: unknown) => (v === undefined ? "-" : JSON.stringify(v));
  const rows: [string, string][] = [
    ["id", String(job.id)],
    ["job type", String(job.jobType)],
    ["status", `${statusName(job.status)} (${job.status})`],
    ["attempts", String(job.attempts)],
    ["created", timeSec(job.createTime)],
    ["updated", timeSec(job.updateTime)],
    ["run at", runAt(job)],
    ["lease until", time(job.leaseUntil)],
    ["worker", job.workerId ?? "-"],
    ["params", job.rawParams],
    ["result", json(job.result)],
    ["progress", json(job.progress)],
    ["last error", job.lastError ?? "-"],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [key, value] of rows) io.out(`${io.color.bold(key.padEnd(width))}  ${value}\n`);
}

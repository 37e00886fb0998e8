import {
  countJobs,
  type Duration,
  JOB_STATUS_ORDER,
  JobStatus,
  type PrunableStatus,
} from "@persistent-queue/core";
import { type Command, InvalidArgumentError } from "commander";
import { parseInteger, parseOlderThan, parsePrunable } from "./arguments.js";
import { type Context, type GlobalOptions, withQueue } from "./context.js";
import { type DashboardFlags, serveDashboard } from "./dashboard-command.js";
import { printJson, renderTable, STATUS_NAMES, time } from "./output.js";

type WithJson = GlobalOptions & { json?: boolean };

/** The status columns of `stats`, in the order a job moves through them. */
const STATS_ORDER = JOB_STATUS_ORDER;

/** A status's key in `stats --json` (`status_9` for a code persistent-queue does not know). */
const statusKey = (status: number) => STATUS_NAMES[status] ?? `status_${status}`;

/** Adds `migrate`, `stats`, `prune`, `schedules` and `dashboard` to the program. */
export function addQueueCommands(program: Command, ctx: Context): void {
  const globals = (cmd: Command) => cmd.optsWithGlobals<WithJson>();

  program
    .command("migrate")
    .description("create or upgrade the queue's tables (idempotent; creates a missing SQLite file)")
    .option("--json", "print JSON: { applied, version, warnings }")
    .action(async (_opts, cmd: Command) => {
      const o = globals(cmd);
      const result = await withQueue(ctx, o, ({ queue }) => queue.migrate(), {
        createSqliteFile: true,
      });
      for (const warning of result.warnings)
        ctx.io.err(ctx.io.errColor.yellow(`warning: ${warning}\n`));
      if (o.json) return printJson(ctx.io, result);
      ctx.io.out(
        result.applied.length > 0
          ? `${ctx.io.color.green("Migrated")} to schema version ${result.version} (applied ${result.applied.join(", ")}).\n`
          : `Already at schema version ${result.version}; nothing to do.\n`,
      );
    });

  program
    .command("stats")
    .description("count jobs by job type and status")
    .option(
      "--json",
      "print JSON: { total, byStatus, jobTypes: [{ jobType, paused, total, byStatus }] }",
    )
    .action(async (_opts, cmd: Command) => {
      const o = globals(cmd);
      const [counts, paused] = await withQueue(ctx, o, async ({ queue, db, tables }) => [
        await countJobs(db, { tables }),
        await queue.pausedTypes(),
      ]);
      const columns = [...STATS_ORDER];
      for (const c of counts) if (!columns.includes(c.status)) columns.push(c.status);
      const zero = () => Object.fromEntries(columns.map((s) => [statusKey(s), 0]));
      const byStatus: Record<string, number> = zero();
      type TypeStats = {
        jobType: number;
        paused: boolean;
        total: number;
        byStatus: Record<string, number>;
      };
      const types = new Map<number, TypeStats>();
      const entry = (jobType: number) => {
        let t = types.get(jobType);
        if (!t) {
          t = { jobType, paused: paused.includes(jobType), total: 0, byStatus: zero() };
          types.set(jobType, t);
        }
        return t;
      };
      for (const c of counts) {
        const t = entry(c.jobType);
        t.byStatus[statusKey(c.status)] = c.count;
        t.total += c.count;
        byStatus[statusKey(c.status)]! += c.count;
      }
      for (const jobType of paused) entry(jobType); // paused before its first job: shown too
      const jobTypes = [...types.values()].sort((a, b) => a.jobType - b.jobType);
      const total = counts.reduce((n, c) => n + c.count, 0);
      if (o.json) return printJson(ctx.io, { total, byStatus, jobTypes });
      if (jobTypes.length === 0) return ctx.io.out("No jobs.\n");
      const row = (label: string, t: { total: number; byStatus: Record<string, number> }) => [
        label,
        ...columns.map((s) => {
          const n = t.byStatus[statusKey(s)] ?? 0;
          return { text: String(n), style: n === 0 ? ctx.io.color.dim : undefined };
        }),
        String(t.total),
      ];
      ctx.io.out(
        renderTable(
          ctx.io,
          ["JOB TYPE", ...columns.map((s) => statusKey(s).toUpperCase()), "TOTAL", "PAUSED"],
          [
            ...jobTypes.map((t) => [
              ...row(String(t.jobType), t),
              t.paused ? { text: "paused", style: ctx.io.color.yellow } : "",
            ]),
            row("all", { total, byStatus }),
          ],
          ["right", ...columns.map(() => "right" as const), "right"],
        ),
      );
    });

  program
    .command("prune")
    .description("delete finished jobs older than a duration, now")
    .requiredOption(
      "--older-than <duration>",
      'finished longer ago than this, e.g. "7d", "12h" (0: all)',
      parseOlderThan,
    )
    .option(
      "-s, --status <statuses>",
      "which finished jobs: success, failed, cancelled, comma-separated",
      parsePrunable,
      [JobStatus.Success, JobStatus.Failed, JobStatus.Cancelled],
    )
    .option("--json", "print JSON: { deleted }")
    .action(async (_opts, cmd: Command) => {
      const o = globals(cmd) as WithJson & { olderThan: Duration; status: JobStatus[] };
      const deleted = await withQueue(ctx, o, ({ queue }) =>
        queue.prune({ status: o.status as PrunableStatus[], olderThan: o.olderThan }),
      );
      if (o.json) return printJson(ctx.io, { deleted });
      ctx.io.out(
        `Deleted ${deleted} job${deleted === 1 ? "" : "s"} (${o.status.map(statusKey).join(", ")}, finished more than ${o.olderThan} ago).\n`,
      );
    });

  program
    .command("schedules")
    .description("list the cron schedules of the job table, with their next run")
    .option("--json", "print JSON: one object per schedule")
    .action(async (_opts, cmd: Command) => {
      const o = globals(cmd);
      const schedules = await withQueue(ctx, o, ({ queue }) => queue.listSchedules());
      if (o.json) return printJson(ctx.io, schedules);
      if (schedules.length === 0) return ctx.io.out("No schedules.\n");
      ctx.io.out(
        renderTable(
          ctx.io,
          ["NAME", "CRON", "TZ", "JOB TYPE", "NEXT RUN", "LAST RUN", "SOURCE", "PARAMS"],
          schedules.map((s) => [
            s.name,
            s.cron,
            s.tz,
            String(s.jobType),
            time(s.nextRun?.getTime()),
            time(s.lastRun?.getTime()),
            s.source,
            JSON.stringify(s.params) ?? "",
          ]),
        ),
      );
    });

  program
    .command("dashboard")
    .description(
      "serve the web dashboard (@persistent-queue/dashboard) on Node's http until Ctrl+C (SIGINT) or SIGTERM",
    )
    .option("-p, --port <port>", "the port to listen on (0: any free port)", parsePort, 8080)
    .option("--host <host>", "the address to listen on", "127.0.0.1")
    .option("--read-only", "allow no actions: every write is refused and no write button is shown")
    .option(
      "--base-path <path>",
      'serve under this path, e.g. "/queues" (behind a proxy)',
      parseBasePath,
    )
    .action(async (_opts, cmd: Command) => {
      await serveDashboard(ctx, cmd.optsWithGlobals<DashboardFlags>());
    });
}

/** A TCP port: 0 to 65535. */
function parsePort(text: string): number {
  const n = parseInteger(text);
  if (n < 0 || n > 65_535)
    throw new InvalidArgumentError(`"${text}" is not a port; use 0 to 65535.`);
  return n;
}

/** A URL path prefix such as "/queues": segments of safe characters, no trailing slash. */
function parseBasePath(text: string): string {
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(text))
    throw new InvalidArgumentError(
      `"${text}" is not a base path; use a path like /queues (no trailing slash).`,
    );
  return text;
}

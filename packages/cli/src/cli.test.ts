// Runs the built `persistent-queue` command (bin/persistent-queue.js, which loads
// dist/) as a child process against real databases: a SQLite file, and the run's
// MariaDB and PostgreSQL (from the vitest globalSetup). The test itself writes
// jobs and reads rows through core (from source), never through the CLI.
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fromBetterSqlite3 } from "@persistent-queue/better-sqlite3";
import {
  type DB,
  defineJob,
  JobStatus,
  LATEST_SCHEMA_VERSION,
  PersistentQueue,
} from "@persistent-queue/core";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { fromPg } from "@persistent-queue/pg";
import { createDatabase, createSqliteFile } from "@persistent-queue/testkit";
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const bin = fileURLToPath(new URL("../bin/persistent-queue.js", import.meta.url));

beforeAll(() => {
  for (const pkg of ["cli", "core", "dashboard", "mysql2", "pg", "better-sqlite3"]) {
    const dist = fileURLToPath(new URL(`../../${pkg}/dist/index.js`, import.meta.url));
    if (!existsSync(dist))
      throw new Error(
        `packages/${pkg} is not built; the CLI test runs the build: npx turbo run build --filter=./packages/*`,
      );
  }
});

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the command with `args`; colour off unless `env` turns it on; no PQ_DATABASE_URL unless
 * given. `nodeArgs` go to Node before the script (`--import` of a module hook).
 */
function cli(
  args: readonly string[],
  env: Record<string, string> = {},
  nodeArgs: readonly string[] = [],
): Promise<Run> {
  const { PQ_DATABASE_URL: _url, FORCE_COLOR: _force, ...base } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeArgs, bin, ...args],
      { env: { ...base, NO_COLOR: "1", ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs the command, expects exit 0 and JSON on stdout, and parses it. */
async function json<T = unknown>(args: readonly string[]): Promise<T> {
  const run = await cli([...args, "--json"]);
  expect(run, run.stderr).toMatchObject({ code: 0 });
  return JSON.parse(run.stdout) as T;
}

/** A loopback port nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Target {
  /** The URL the CLI gets. */
  readonly url: string;
  /** The same database for the test's own queue. */
  readonly db: DB;
  close(): Promise<void>;
}

const TARGETS: Record<string, () => Promise<Target>> = {
  async sqlite() {
    const file = await createSqliteFile();
    let database: Database.Database | undefined;
    return {
      url: `sqlite:${file.path}`,
      get db() {
        database ??= new Database(file.path);
        return fromBetterSqlite3(database);
      },
      async close() {
        database?.close();
        await file.cleanup();
      },
    };
  },
  async mariadb() {
    const created = await createDatabase({ kind: "mariadb", url: inject("pqMysqlUrl") });
    const pool = mysql.createPool({ uri: created.url, connectionLimit: 4 });
    return {
      url: created.url.replace(/^mysql:/, "mariadb:"), // the CLI's other spelling
      db: fromMysql2(pool),
      async close() {
        await pool.end();
        await created.drop();
      },
    };
  },
  async postgres() {
    const created = await createDatabase({ kind: "postgres", url: inject("pqPgUrl") });
    const pool = new pg.Pool({ connectionString: created.url, max: 4 });
    return {
      url: created.url.replace(/^postgres:/, "postgresql:"),
      db: fromPg(pool),
      async close() {
        await pool.end();
        await created.drop();
      },
    };
  },
};

interface JobJson {
  id: number;
  jobType: number;
  status: number;
  statusName: string;
  params: unknown;
}

describe.each(Object.keys(TARGETS))("persistent-queue on %s", (kind) => {
  let target: Target;
  let db: string;
  beforeAll(async () => {
    target = await TARGETS[kind]!();
    db = `--db=${target.url}`;
  });
  afterAll(() => target?.close());

  it("says to migrate before the tables exist, then migrates once (exit 0)", async () => {
    const before = await cli(["stats", db]);
    // A missing SQLite file is not created by stats: no such database (3); a server's empty database: not migrated (1).
    expect(before.code).toBe(kind === "sqlite" ? 3 : 1);
    expect(before.stderr).toMatch(
      kind === "sqlite" ? /no SQLite database at/ : /persistent-queue migrate/,
    );

    const first = await cli(["migrate", db]);
    expect(first, first.stderr).toMatchObject({ code: 0 });
    expect(first.stdout).toMatch(`Migrated to schema version ${LATEST_SCHEMA_VERSION}`);
    expect(await json(["migrate", db])).toEqual({
      applied: [],
      version: LATEST_SCHEMA_VERSION,
      warnings: [],
    });
  });

  it("lists, shows, cancels, retries, promotes, counts, prunes and removes jobs as the rows say", async () => {
    const waiting = defineJob<{ order: string }>()({ jobType: 1, name: "order" }); // not run here
    const ran = defineJob({ jobType: 2, handleJob: () => JobStatus.Success });
    const failing = defineJob({ jobType: 3, handleJob: () => JobStatus.Failed });
    const queue = new PersistentQueue({
      db: target.db,
      serviceName: "cli-test",
      jobs: [waiting, ran, failing],
      pollInterval: 50,
    });
    const a = await queue.add(1, { order: "a-42" });
    const b = await queue.add(1, { order: "b" }, { delay: "1h" });
    const c = await queue.add(2, {});
    const d = await queue.add(3, {});
    await queue.start();
    await Promise.all([queue.waitFor(c), queue.waitFor(d)]);
    await queue.stop();
    const finishedAt = Date.now();
    const reader = new PersistentQueue({ db: target.db, serviceName: "cli-test", jobs: [] });
    const status = async (id: number) => (await reader.getJob(id))?.status;

    // Reads first, side by side (each is a process of its own): list, filters, show.
    type Page = { jobs: JobJson[]; nextCursor: string | null };
    const [all, page, found, table, colored, shown, missing] = await Promise.all([
      json<Page>(["jobs", "list", db]),
      json<Page>(["jobs", "list", "--type", "1", "--status", "init", "--limit", "1", db]),
      json<Page>(["jobs", "list", "--search", "A-42", db]),
      cli(["jobs", "list", db]),
      cli(["jobs", "list", db], { NO_COLOR: "", FORCE_COLOR: "1" }),
      json<JobJson>(["jobs", "show", String(a), db]),
      cli(["jobs", "show", "987654", db]),
    ]);
    // list: newest first, JSON for scripts, pages by cursor.
    expect(all.jobs.map((j) => [j.id, j.statusName])).toEqual([
      [d, "failed"],
      [c, "success"],
      [b, "init"],
      [a, "init"],
    ]);
    expect(all.nextCursor).toBeNull();
    expect(page.jobs.map((j) => j.id)).toEqual([b]);
    const next = await json<Page>([
      "jobs",
      "list",
      "--type=1",
      "--status=waiting",
      `--cursor=${page.nextCursor}`,
      db,
    ]);
    expect(next.jobs.map((j) => j.id)).toEqual([a]);
    expect(found.jobs.map((j) => j.id)).toEqual([a]);
    // A table for people: a header, one line per job, no colour codes with NO_COLOR.
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+TYPE\s+STATUS\s+ATTEMPTS/);
    expect(table.stdout).toMatch(new RegExp(`^\\s*${a}\\s+1\\s+init\\s`, "m"));
    expect(table.stdout).not.toContain("\u001b[");
    expect(colored.stdout).toContain("\u001b[");
    // show
    expect(shown).toMatchObject({ id: a, jobType: 1, status: 0, params: { order: "a-42" } });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no job has id 987654/);

    // cancel: a waiting job is cancelled; a finished one is not (exit 1, says why).
    const [cancelled, late] = await Promise.all([
      cli(["jobs", "cancel", String(a), db]),
      cli(["jobs", "cancel", String(c), db]),
    ]);
    expect(cancelled.code).toBe(0);
    expect(await status(a)).toBe(JobStatus.Cancelled);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(
      new RegExp(`job ${c}: not cancelled: it has already finished \\(it is success\\)`),
    );
    expect(await status(c)).toBe(JobStatus.Success);

    // retry: the cancelled job waits again; promote: the delayed job becomes due now.
    expect((await reader.getJob(b))!.runAt).toBeGreaterThan(Date.now() + 30 * 60_000);
    const [retried, promoted] = await Promise.all([
      json(["jobs", "retry", String(a), db]),
      cli(["jobs", "promote", String(b), db]),
    ]);
    expect(retried).toEqual([{ id: a, applied: true, status: "init" }]);
    expect(await status(a)).toBe(JobStatus.Init);
    expect(promoted.code).toBe(0);
    expect((await reader.getJob(b))!.runAt).toBeLessThanOrEqual(Date.now() + 5000);

    // stats: counts by job type and status.
    const [counts, stats] = await Promise.all([json(["stats", db]), cli(["stats", db])]);
    expect(counts).toEqual({
      total: 4,
      byStatus: { init: 2, running: 0, retry: 0, continue: 0, success: 1, failed: 1, cancelled: 0 },
      jobTypes: [
        {
          jobType: 1,
          paused: false,
          total: 2,
          byStatus: expect.objectContaining({ init: 2, success: 0 }),
        },
        {
          jobType: 2,
          paused: false,
          total: 1,
          byStatus: expect.objectContaining({ success: 1, init: 0 }),
        },
        { jobType: 3, paused: false, total: 1, byStatus: expect.objectContaining({ failed: 1 }) },
      ],
    });
    expect(stats.stdout).toMatch(/^\s*all\s+2\s+0\s+0\s+0\s+1\s+1\s+0\s+4$/m);

    // prune: nothing is a day old; with 0, the failed job goes once its second has passed.
    expect(await json(["prune", "--older-than", "1d", db])).toEqual({ deleted: 0 });
    await new Promise((r) => setTimeout(r, Math.max(0, finishedAt + 1100 - Date.now())));
    expect(await json(["prune", "--older-than", "0", "--status", "failed", db])).toEqual({
      deleted: 1,
    });
    expect(await reader.getJob(d)).toBeUndefined();
    expect(await status(c)).toBe(JobStatus.Success);

    // remove
    expect((await cli(["jobs", "remove", String(b), db])).code).toBe(0);
    expect(await reader.getJob(b)).toBeUndefined();
    const gone = await cli(["jobs", "remove", String(b), "--json", db]);
    expect(gone.code).toBe(1);
    expect(JSON.parse(gone.stdout)).toEqual([
      { id: b, applied: false, status: null, error: `no job has id ${b}.` },
    ]);
  });

  it("lists schedules with their next run", async () => {
    expect(await json(["schedules", db])).toEqual([]);
    const queue = new PersistentQueue({ db: target.db, serviceName: "cli-test", jobs: [] });
    await queue.schedule({
      name: "nightly-report",
      cron: "0 3 * * *",
      jobType: 1,
      params: { n: 1 },
    });
    const [nightly] = await json<Record<string, unknown>[]>(["schedules", db]);
    expect(nightly).toMatchObject({
      name: "nightly-report",
      cron: "0 3 * * *",
      tz: "UTC",
      jobType: 1,
      params: { n: 1 },
      source: "runtime",
    });
    expect(nightly!.nextRun).toMatch(/T03:00:00\.000Z$/);
    const table = await cli(["schedules", db]);
    expect(table.stdout).toMatch(
      /nightly-report\s+0 3 \* \* \*\s+UTC\s+1\s+\d{4}-\d\d-\d\dT03:00:00Z/,
    );
  });

  it("pauses job types for every process until types resume; types list and stats say which", async () => {
    // 41 is paused before its job is added, -42 has no jobs (a negative type needs no "--"),
    // 43 is the control: the started queue claims it, so not running 41 means something.
    const seen: number[] = [];
    const handle = (jobType: number) => () => {
      seen.push(jobType);
      return JobStatus.Success;
    };
    const queue = new PersistentQueue({
      db: target.db,
      serviceName: "cli-test",
      jobs: [
        defineJob({ jobType: 41, handleJob: handle(41) }),
        defineJob({ jobType: 43, handleJob: handle(43) }),
      ],
      pollInterval: 50,
    });
    try {
      const paused = await cli(["types", "pause", "41", "-42", db]);
      expect(paused, paused.stderr).toMatchObject({ code: 0 });
      expect(paused.stdout).toBe("job type 41: paused\njob type -42: paused\n");
      expect([
        await queue.isPaused(41),
        await queue.isPaused(-42),
        await queue.isPaused(43),
      ]).toEqual([true, true, false]);

      await queue.start();
      const held = await queue.add(41, {});
      const control = await queue.add(43, {});
      await queue.waitFor(control, { timeout: "10s" });
      await new Promise((r) => setTimeout(r, 500)); // ten poll intervals
      expect(seen).toEqual([43]);
      expect((await queue.getJob(held))?.status).toBe(JobStatus.Init);

      type Summary = { jobType: number; paused: boolean; waiting: number; total: number };
      const mine = <T extends { jobType: number }>(list: T[]) =>
        list.filter((t) => [41, -42, 43].includes(t.jobType));
      const [list, table, stats, statsTable, again] = await Promise.all([
        json<Summary[]>(["types", "list", db]),
        cli(["types", "list", db]),
        json<{ jobTypes: Summary[] }>(["stats", db]),
        cli(["stats", db]),
        cli(["types", "pause", "41", db]),
      ]);
      expect(mine(list)).toEqual([
        { jobType: -42, paused: true, waiting: 0, running: 0, total: 0 },
        { jobType: 41, paused: true, waiting: 1, running: 0, total: 1 },
        { jobType: 43, paused: false, waiting: 0, running: 0, total: 1 },
      ]);
      expect(table.stdout.split("\n")[0]).toMatch(/^JOB TYPE\s+STATE\s+WAITING\s+RUNNING\s+TOTAL$/);
      expect(table.stdout).toMatch(/^\s*41\s+paused\s+1\s+0\s+1$/m);
      expect(table.stdout).toMatch(/^\s*43\s+active\s+0\s+0\s+1$/m);
      expect(mine(stats.jobTypes).map((t) => [t.jobType, t.paused, t.total])).toEqual([
        [-42, true, 0],
        [41, true, 1],
        [43, false, 1],
      ]);
      expect(statsTable.stdout).toMatch(/^\s*41(\s+\d+)+\s+paused$/m);
      expect(statsTable.stdout).toMatch(/^\s*43(\s+\d+)+$/m);
      expect(again.stdout).toBe("job type 41: paused (it already was)\n");

      // resume: the held job runs; resuming a type that is not paused is not an error.
      expect(await json(["types", "resume", "41", "43", db])).toEqual([
        { jobType: 41, paused: false, changed: true },
        { jobType: 43, paused: false, changed: false },
      ]);
      expect(await queue.isPaused(41)).toBe(false);
      expect((await queue.waitFor(held, { timeout: "10s" })).status).toBe(JobStatus.Success);
      expect(seen).toEqual([43, 41]);
      expect(await queue.pausedTypes()).toEqual([-42]);
    } finally {
      await queue.stop();
    }
  });
});

describe("persistent-queue with renamed tables", () => {
  it("--jobs-table, --job-types-table and --migrations-table reach the tables the queue's tables option names", async () => {
    const file = await createSqliteFile();
    const database = new Database(file.path);
    try {
      const tables = {
        jobs: "billing_jobs",
        jobTypes: "billing_job_types",
        migrations: "billing_migrations",
      };
      const flags = [
        `--db=sqlite:${file.path}`,
        "--jobs-table=billing_jobs",
        "--job-types-table",
        "billing_job_types",
      ];
      const migrated = await cli(["migrate", ...flags, "--migrations-table", "billing_migrations"]);
      expect(migrated, migrated.stderr).toMatchObject({ code: 0 });
      const queue = new PersistentQueue({
        db: fromBetterSqlite3(database),
        serviceName: "cli-test",
        jobs: [],
        tables,
      });
      const id = await queue.add(7, {});
      const [stats, missing] = await Promise.all([
        json(["stats", ...flags, "--migrations-table=billing_migrations"]),
        cli(["stats", `--db=sqlite:${file.path}`]), // the default tables were never migrated
      ]);
      expect(stats).toMatchObject({ total: 1, jobTypes: [{ jobType: 7, total: 1 }] });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/async_job_tab has not been migrated/);
      const [listed] = (
        await json<{ jobs: JobJson[] }>([
          "jobs",
          "list",
          ...flags,
          "--migrations-table=billing_migrations",
        ])
      ).jobs;
      expect(listed).toMatchObject({ id, jobType: 7, statusName: "init" });

      // pause goes to the renamed job-types table, where the queue reads it.
      const paused = await cli([
        "types",
        "pause",
        "7",
        ...flags,
        "--migrations-table=billing_migrations",
      ]);
      expect(paused, paused.stderr).toMatchObject({ code: 0 });
      expect(await queue.isPaused(7)).toBe(true);
      const wrong = await cli([
        "types",
        "list",
        ...flags,
        "--migrations-table=billing_migrations",
        "--job-types-table=billing_types",
      ]);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/billing_types.*--job-types-table.*persistent-queue migrate/);
    } finally {
      database.close();
      await file.cleanup();
    }
  });
});

describe("persistent-queue without a usable database", () => {
  it("a URL it cannot open is a usage error (exit 2) that lists the accepted forms", async () => {
    const run = await cli(["stats", "--db", "ftp://user:hunter2@127.0.0.1/x"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/scheme ftp: is not supported.*postgres:\/\/.*sqlite:/);
    expect(run.stderr).not.toContain("hunter2");
    const noDb = await cli(["stats"]);
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toMatch(/pass --db URL or set PQ_DATABASE_URL/);
    const noName = await cli(["stats"], { PQ_DATABASE_URL: "postgres://127.0.0.1:5432" });
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(/names no database/);
  });

  it.each([
    ["postgres", "postgres"],
    ["mysql", "mysql"],
  ])(
    "a %s server nothing listens for is unreachable (exit 3), password hidden",
    async (_name, scheme) => {
      const port = await closedPort();
      const run = await cli(["jobs", "list"], {
        PQ_DATABASE_URL: `${scheme}://user:hunter2@127.0.0.1:${port}/app`,
      });
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(
        new RegExp(
          `cannot reach the database at ${scheme}://user:\\*\\*\\*@127\\.0\\.0\\.1:${port}/app: .*ECONNREFUSED`,
        ),
      );
      expect(run.stderr).not.toContain("hunter2");
    },
  );

  it("a bad flag value is a usage error (exit 2); help exits 0", async () => {
    const bad = await cli(["jobs", "list", "--status", "done", "--db", "sqlite:x.db"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"done" is not a job status; use init, success/);
    const big = await cli(["jobs", "list", "--limit", "1000", "--db", "sqlite:x.db"]);
    expect(big.code).toBe(2);
    expect(big.stderr).toMatch(/"1000" is not a page size; use 1 to 500/);
    const badId = await cli(["jobs", "cancel", "12", "x7", "--db", "sqlite:x.db"]);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/"x7" is not a job id/);
    const [badType, bigType, noType] = await Promise.all([
      cli(["types", "pause", "3", "orders", "--db", "sqlite:x.db"]),
      cli(["types", "resume", "2147483648", "--db", "sqlite:x.db"]),
      cli(["types", "pause", "--db", "sqlite:x.db"]),
    ]);
    expect(badType.code).toBe(2);
    expect(badType.stderr).toMatch(/"orders" is not a job type; a job type is the integer/);
    expect(bigType.code).toBe(2);
    expect(bigType.stderr).toMatch(/"2147483648" is not a job type.* to 2147483647/);
    expect(noType.code).toBe(2);
    expect(noType.stderr).toMatch(/missing required argument 'jobTypes'/);
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes: 0 ok/);
    const [badPort, badBase] = await Promise.all([
      cli(["dashboard", "--port", "70000", "--db", "sqlite:x.db"]),
      cli(["dashboard", "--base-path", "queues/", "--db", "sqlite:x.db"]),
    ]);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toMatch(/"70000" is not a port/);
    expect(badBase.code).toBe(2);
    expect(badBase.stderr).toMatch(/"queues\/" is not a base path/);
  });
});

describe("persistent-queue dashboard", () => {
  it("serves the dashboard on a free port against SQLite until SIGTERM (exit 0)", async () => {
    const target = await TARGETS.sqlite!();
    try {
      expect((await cli(["migrate", `--db=${target.url}`])).code).toBe(0);
      const child = spawn(
        process.execPath,
        [
          bin,
          "dashboard",
          "--port",
          "0",
          "--base-path",
          "/queues",
          "--read-only",
          `--db=${target.url}`,
        ],
        { env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => {
        stdout += d;
      });
      child.stderr.on("data", (d: Buffer) => {
        stderr += d;
      });
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      const end = Date.now() + 20_000;
      let url: string | undefined;
      while (!url && Date.now() < end) {
        url = /Dashboard at (http:\/\/\S+\/) \(read-only\)/.exec(stdout)?.[1];
        if (!url) await new Promise((r) => setTimeout(r, 50));
      }
      expect(url, stderr).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/queues\/$/);
      const overview = await fetch(`${url}api/overview`);
      expect(overview.status).toBe(200);
      expect(await overview.json()).toMatchObject({ counts: [], paused: [] });
      const session = (await (await fetch(`${url}api/session`)).json()) as { readOnly: boolean };
      expect(session.readOnly).toBe(true);
      expect((await fetch(url!)).headers.get("content-type")).toBe("text/html; charset=utf-8");
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(stdout).toContain("Dashboard stopped.");
    } finally {
      await target.close();
    }
  });

  it("says to migrate first, before it listens (exit 1)", async () => {
    const target = await TARGETS.sqlite!();
    try {
      const created = new Database(target.url.slice("sqlite:".length));
      created.close(); // an empty database file, never migrated
      const run = await cli(["dashboard", "--port", "0", `--db=${target.url}`]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/persistent-queue migrate/);
      expect(run.stdout).not.toContain("Dashboard at");
    } finally {
      await target.close();
    }
  });
});

// sqlite: URLs open through better-sqlite3 by default; PQ_SQLITE_DRIVER=node:sqlite takes Node's
// built-in driver (and the command takes it by itself when better-sqlite3 is not installed: that
// path is checked in scripts/packages.test.ts, whose app installs no drivers).
describe("persistent-queue on sqlite: with PQ_SQLITE_DRIVER", () => {
  const hasBuiltin =
    (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule?.(
      "node:sqlite",
    ) !== undefined;

  /** A producer queue on the SQLite file through better-sqlite3 (this process's, which loads). */
  async function withBetterSqlite3Queue(
    path: string,
    fn: (queue: PersistentQueue) => Promise<void>,
  ): Promise<void> {
    const database = new Database(path);
    try {
      await fn(
        new PersistentQueue({ db: fromBetterSqlite3(database), serviceName: "cli-test", jobs: [] }),
      );
    } finally {
      database.close();
    }
  }

  it.skipIf(!hasBuiltin)(
    "node:sqlite: migrate creates the file, stats and jobs list read a job better-sqlite3 wrote, a missing file is exit 3 and not created",
    async () => {
      const file = await createSqliteFile();
      try {
        const env = { PQ_SQLITE_DRIVER: "node:sqlite" };
        const migrated = await cli(["migrate", `--db=sqlite:${file.path}`], env);
        expect(migrated, migrated.stderr).toMatchObject({ code: 0 });
        await withBetterSqlite3Queue(file.path, async (queue) => {
          const id = await queue.add(5, { via: "better-sqlite3" });
          const stats = await cli(["stats", "--json", `--db=sqlite:${file.path}`], env);
          expect(stats, stats.stderr).toMatchObject({ code: 0 });
          expect(JSON.parse(stats.stdout)).toMatchObject({
            total: 1,
            jobTypes: [{ jobType: 5, total: 1 }],
          });
          const list = await cli(["jobs", "list", "--json", `--db=sqlite:${file.path}`], env);
          expect(JSON.parse(list.stdout).jobs).toMatchObject([{ id, jobType: 5 }]);
        });
        const missing = `${file.path}.missing`;
        const absent = await cli(["stats", `--db=sqlite:${missing}`], env);
        expect(absent.code).toBe(3);
        expect(absent.stderr).toMatch(/no SQLite database at .*\.missing/);
        expect(existsSync(missing)).toBe(false);
      } finally {
        await file.cleanup();
      }
    },
  );

  // better-sqlite3 installed with --ignore-scripts (no addon built) or built for another Node
  // (ERR_DLOPEN_FAILED): its JavaScript imports, its first Database throws. A module hook of the
  // child process resolves "better-sqlite3" to a stand-in that throws as the real one does in
  // each case (a real broken install cannot be had in this tree); the database file is real.
  async function brokenBetterSqlite3(dir: string, error: "bindings" | "dlopen"): Promise<string> {
    const thrown =
      error === "bindings"
        ? `new Error("Could not locate the bindings file. Tried:\\n → /x/build/better_sqlite3.node")`
        : `Object.assign(new Error("The module '/x/better_sqlite3.node'\\nwas compiled against a different Node.js version"), { code: "ERR_DLOPEN_FAILED" })`;
    await writeFile(
      join(dir, `broken-${error}.mjs`),
      `export default class Database { constructor() { throw ${thrown}; } }\n`,
    );
    await writeFile(
      join(dir, `hooks-${error}.mjs`),
      `export async function resolve(specifier, context, next) {
  if (specifier === "better-sqlite3") return { url: new URL("./broken-${error}.mjs", import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}\n`,
    );
    const register = join(dir, `register-${error}.mjs`);
    await writeFile(
      register,
      `import { register } from "node:module";\nregister("./hooks-${error}.mjs", import.meta.url);\n`,
    );
    return pathToFileURL(register).href;
  }

  it("a better-sqlite3 whose addon does not load: node:sqlite where Node has it, else exit 2 saying to rebuild (not 'no SQLite database')", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pq-cli-broken-"));
    const file = await createSqliteFile();
    try {
      await withBetterSqlite3Queue(file.path, async (queue) => {
        await queue.migrate();
        await queue.add(6, { via: "better-sqlite3" });
      });
      for (const error of ["bindings", "dlopen"] as const) {
        const hook = ["--import", await brokenBetterSqlite3(dir, error)];
        const stats = await cli(["stats", "--json", `--db=sqlite:${file.path}`], {}, hook);
        if (hasBuiltin) {
          expect(stats, stats.stderr).toMatchObject({ code: 0 });
          expect(JSON.parse(stats.stdout)).toMatchObject({ jobTypes: [{ jobType: 6, total: 1 }] });
        } else {
          expect(stats.code).toBe(2);
          expect(stats.stderr).toMatch(/native addon does not load .*npm rebuild better-sqlite3/);
        }
        // Asked for better-sqlite3 by name, the command says what is wrong with it.
        const forced = await cli(
          ["stats", `--db=sqlite:${file.path}`],
          { PQ_SQLITE_DRIVER: "better-sqlite3" },
          hook,
        );
        expect(forced.code).toBe(2);
        expect(forced.stderr).toMatch(
          /needs better-sqlite3, whose native addon does not load on Node v[\d.]+ \((Could not locate the bindings file|The module '\/x\/better_sqlite3.node' was compiled against a different Node.js version).*npm rebuild better-sqlite3/,
        );
        expect(forced.stderr).not.toMatch(/no SQLite database/);
      }
    } finally {
      await file.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("an unknown PQ_SQLITE_DRIVER is a usage error (exit 2) that names the choices", async () => {
    const run = await cli(["stats", "--db=sqlite:x.db"], { PQ_SQLITE_DRIVER: "sqlite3" });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/PQ_SQLITE_DRIVER=sqlite3 .*node:sqlite or better-sqlite3/);
  });
});

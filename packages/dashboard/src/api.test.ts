// The dashboard's JSON API through its Fetch handler, on real databases:
// SQLite always, the run's MariaDB and PostgreSQL from the vitest globalSetup.
// Rows are checked through core (getJob), not through the API under test.
import { type DB, JobStatus, PersistentQueue } from "@persistent-queue/core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDashboard } from "./index.js";
import {
  client,
  DEFINITIONS,
  FAILURE,
  openMariadb,
  openPostgres,
  openSqlite,
  type Seeded,
  seed,
  type TestDatabase,
} from "./test-fixtures.js";

const TARGETS: Record<string, () => Promise<TestDatabase>> = {
  sqlite: openSqlite,
  mariadb: () => openMariadb(inject("pqMysqlUrl")),
  postgres: () => openPostgres(inject("pqPgUrl")),
};

describe.each(Object.keys(TARGETS))("dashboard API on %s", (kind) => {
  let target: TestDatabase;
  let db: DB;
  let seeded: Seeded;
  let dashboard: ReturnType<typeof createDashboard>;
  let api: Awaited<ReturnType<typeof client>>;
  let reader: PersistentQueue;
  const status = async (id: number) => (await reader.getJob(id))?.status;

  beforeAll(async () => {
    target = await TARGETS[kind]!();
    db = target.db;
    seeded = await seed(db);
    dashboard = createDashboard({ db });
    api = await client(dashboard);
    reader = new PersistentQueue({ db, serviceName: "reader", jobs: [] });
  });
  afterAll(async () => {
    await dashboard?.close();
    await target?.close();
  });

  it("overview: counts per type and status, oldest waiting, throughput of the finished jobs", async () => {
    const res = await api.get("overview");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as {
      counts: unknown[];
      paused: number[];
      oldestWaiting: { jobType: number; ageSeconds: number }[];
      throughput: { perMinute: { buckets: { jobType: number; status: number; count: number }[] } };
    };
    expect(body.counts).toEqual([
      { jobType: 1, status: JobStatus.Init, count: 3 },
      { jobType: 2, status: JobStatus.Success, count: 2 },
      { jobType: 3, status: JobStatus.Failed, count: 2 },
    ]);
    expect(body.paused).toEqual([]);
    expect(body.oldestWaiting).toHaveLength(1);
    expect(body.oldestWaiting[0]).toMatchObject({ jobType: 1 });
    expect(body.oldestWaiting[0]!.ageSeconds).toBeLessThan(120);
    const sum = (type: number, s: number) =>
      body.throughput.perMinute.buckets
        .filter((b) => b.jobType === type && b.status === s)
        .reduce((n, b) => n + b.count, 0);
    expect(sum(2, JobStatus.Success)).toBe(2);
    expect(sum(3, JobStatus.Failed)).toBe(2);
  });

  it("with the job definitions: the session names the types, records carry the name, jobs?type= takes a name", async () => {
    const named = createDashboard({ db, jobs: DEFINITIONS });
    try {
      const c = await client(named);
      const session = (await (await c.get("session")).json()) as { types: unknown };
      expect(session.types).toEqual([
        { jobType: 1, name: "order" },
        { jobType: 2, name: "mail" },
        { jobType: 3, name: "charge" },
      ]);
      const page = (await (await c.get("jobs?type=charge")).json()) as {
        jobs: { id: number; name: string }[];
      };
      expect(page.jobs.map((j) => j.id)).toEqual([...seeded.charges].reverse());
      expect(page.jobs.map((j) => j.name)).toEqual(["charge", "charge"]);
      const unknown = await c.get("jobs?type=no-such-type");
      expect(unknown.status).toBe(400);
      expect(await unknown.json()).toMatchObject({ error: { field: "type" } });
      // Without definitions the names are unknown: a name is then refused the same way.
      expect((await api.get("jobs?type=charge")).status).toBe(400);
    } finally {
      await named.close();
    }
  });

  it("GET metrics: Prometheus text with the table's jobs by type and status", async () => {
    const res = await dashboard(new Request("http://127.0.0.1/metrics"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const value = (labels: string) =>
      Number(new RegExp(`^persistent_queue_jobs\\{${labels}\\} (\\S+)$`, "m").exec(text)?.[1]);
    expect(value('job_type="1",status="init"')).toBe(3);
    expect(value('job_type="2",status="success"')).toBe(2);
    expect(value('job_type="3",status="failed"')).toBe(2);
    expect(text).toMatch(/^# TYPE persistent_queue_jobs gauge$/m);
  });

  it("jobs list: filters by type, status, search and time; pages by cursor", async () => {
    const list = async (q: string) => {
      const res = await api.get(`jobs?${q}`);
      expect(res.status, await res.clone().text()).toBe(200);
      return (await res.json()) as { jobs: { id: number }[]; nextCursor?: string };
    };
    const ids = (p: { jobs: { id: number }[] }) => p.jobs.map((j) => j.id);
    expect(ids(await list("type=3"))).toEqual([...seeded.charges].reverse());
    expect(ids(await list("status=failed"))).toEqual([...seeded.charges].reverse());
    expect(ids(await list("status=2,1"))).toEqual(
      [...seeded.mails, ...seeded.charges].sort((a, b) => b - a),
    );
    expect(ids(await list(`search=${encodeURIComponent('"orderId":42')}`))).toEqual([
      seeded.orders[0],
    ]);
    const first = await list("type=1&limit=2");
    expect(ids(first)).toEqual([seeded.orders[2], seeded.orders[1]]);
    expect(ids(await list(`type=1&limit=2&cursor=${first.nextCursor}`))).toEqual([
      seeded.orders[0],
    ]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const past = new Date(Date.now() - 3_600_000).toISOString();
    expect(ids(await list(`createdFrom=${future}`))).toEqual([]);
    expect(ids(await list(`createdFrom=${past}&type=2`))).toEqual([...seeded.mails].reverse());
    expect(ids(await list(`updatedTo=${past}`))).toEqual([]);
  });

  it("job detail: every field, with the last error; 404 for a missing id", async () => {
    const res = await api.get(`jobs/${seeded.charges[0]}`);
    expect(res.status).toBe(200);
    const job = (await res.json()) as Record<string, unknown>;
    expect(job).toMatchObject({
      id: seeded.charges[0],
      jobType: 3,
      status: JobStatus.Failed,
      params: { amount: 10 },
      priority: 0,
      group: null,
      uniqueKey: null,
    });
    expect(String(job.lastError)).toContain(FAILURE);
    const missing = await api.get("jobs/987654");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "ERR_PQ_DASHBOARD_NOT_FOUND" } });
  });

  it("bad input is a 400 saying what to change", async () => {
    const cases: [string, string][] = [
      ["jobs?status=bogus", "status"],
      ["jobs?type=x", "type"],
      ["jobs?cursor=abc", "cursor"],
      ["jobs?limit=0", "limit"],
      ["jobs?createdFrom=yesterday", "createdFrom"],
      ["jobs?colour=red", "colour"],
      ["jobs/abc", "id"],
    ];
    for (const [path, field] of cases) {
      const res = await api.get(path);
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as {
        error: { code: string; field: string; message: string };
      };
      expect(body.error).toMatchObject({ code: "ERR_PQ_DASHBOARD_BAD_INPUT", field });
      expect(body.error.message.length).toBeGreaterThan(20);
    }
    const bulk = await api.post("jobs/bulk", { action: "explode", ids: [1] });
    expect(bulk.status).toBe(400);
    expect(await bulk.json()).toMatchObject({ error: { field: "action" } });
  });

  it("actions: single and bulk change the rows, with an outcome per id", async () => {
    const [failed] = seeded.charges;
    const retried = await api.post(`jobs/${failed}/retry`);
    expect(await retried.json()).toMatchObject({ id: failed, action: "retry", outcome: "applied" });
    expect(await status(failed!)).toBe(JobStatus.Init);

    const skipped = await api.post(`jobs/${seeded.mails[0]}/retry`);
    expect(skipped.status).toBe(200);
    expect(await skipped.json()).toMatchObject({ outcome: "skipped" });
    expect((await api.post("jobs/987654/cancel")).status).toBe(404);

    const delayed = seeded.orders[2]!;
    expect(await (await api.post(`jobs/${delayed}/promote`)).json()).toMatchObject({
      outcome: "applied",
    });
    expect((await reader.getJob(delayed))!.runAt).toBeLessThanOrEqual(Date.now() + 5000);

    const bulk = await api.post("jobs/bulk", {
      action: "cancel",
      ids: [seeded.orders[0], seeded.mails[0], 987654],
    });
    expect(bulk.status).toBe(200);
    expect(((await bulk.json()) as { results: unknown[] }).results).toEqual([
      { id: seeded.orders[0], outcome: "applied" },
      {
        id: seeded.mails[0],
        outcome: "skipped",
        message: expect.stringContaining("cancel applies"),
      },
      { id: 987654, outcome: "not-found", message: expect.stringContaining("no job has id") },
    ]);
    expect(await status(seeded.orders[0]!)).toBe(JobStatus.Cancelled);

    const removed = await api.post("jobs/bulk", { action: "remove", ids: [seeded.mails[1]] });
    expect(((await removed.json()) as { results: unknown[] }).results).toEqual([
      { id: seeded.mails[1], outcome: "applied" },
    ]);
    expect(await reader.getJob(seeded.mails[1]!)).toBeUndefined();
  });

  it("pause and resume a job type", async () => {
    expect(await (await api.post("types/1/pause")).json()).toEqual({ jobType: 1, paused: true });
    expect(await reader.isPaused(1)).toBe(true);
    expect(((await (await api.get("overview")).json()) as { paused: number[] }).paused).toEqual([
      1,
    ]);
    expect(await (await api.post("types/1/resume")).json()).toEqual({ jobType: 1, paused: false });
    expect(await reader.isPaused(1)).toBe(false);
  });

  it("schedules with their next run; ShedLock locks", async () => {
    const { schedules } = (await (await api.get("schedules")).json()) as {
      schedules: { name: string; cron: string; nextRun: string }[];
    };
    expect(schedules).toEqual([
      expect.objectContaining({ name: "nightly-report", cron: "0 3 * * *", jobType: 2 }),
    ]);
    expect(new Date(schedules[0]!.nextRun).getUTCHours()).toBe(3);
    // In a time zone other than the database session's: mysql2 reads lock times as
    // local time, and listLocks must not depend on it.
    const zone = process.env.TZ;
    process.env.TZ = "America/New_York";
    let locks: { name: string; held: boolean; lockedBy: string; lockUntil: string }[];
    try {
      ({ locks } = (await (await api.get("locks")).json()) as { locks: typeof locks });
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    expect(locks).toEqual([
      expect.objectContaining({
        name: "report-lock",
        held: true,
        lockedBy: expect.stringContaining("dashboard-test"),
      }),
    ]);
    const until = new Date(locks[0]!.lockUntil).getTime();
    // Ten minutes from now (MySQL keeps whole seconds and rounds up).
    expect(until).toBeGreaterThan(Date.now() + 8 * 60_000);
    expect(until).toBeLessThan(Date.now() + 12 * 60_000);
  });
});

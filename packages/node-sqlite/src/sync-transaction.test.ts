import { type DB, JobStatus, PersistentQueue } from "@persistent-queue/core";
import { createSqliteFile } from "@persistent-queue/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatabaseSync, missing } from "../test/open.mjs";
import { fromNodeSqlite } from "./index.js";

// node:sqlite has no transaction helper: a transaction of the caller's own is BEGIN … COMMIT
// through exec(), synchronous, and addSync() enqueues inside it.
describe.skipIf(missing !== undefined)("addSync() inside the connection's own transaction", () => {
  let file: Awaited<ReturnType<typeof createSqliteFile>>;
  let sqlite: InstanceType<NonNullable<typeof DatabaseSync>>;
  const ran: number[] = [];
  const makeQueue = (db: DB) =>
    new PersistentQueue({
      db,
      serviceName: "sync-tx",
      pollInterval: 50,
      jobs: [{ jobType: 1, handleJob: async (job) => void ran.push(job.id) }],
    });
  let queue: ReturnType<typeof makeQueue>;
  const count = () =>
    Number((sqlite.prepare("SELECT COUNT(*) AS n FROM async_job_tab").all()[0] as { n: number }).n);

  beforeAll(async () => {
    file = await createSqliteFile();
    sqlite = new DatabaseSync!(file.path);
    queue = makeQueue(fromNodeSqlite(sqlite));
    await queue.migrate();
    sqlite.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER NOT NULL)");
    await queue.start();
  });
  afterAll(async () => {
    await queue?.stop();
    if (sqlite?.isOpen) sqlite.close();
    await file?.cleanup();
  });

  it("a job enqueued with addSync() inside a committed transaction runs", async () => {
    sqlite.exec("BEGIN IMMEDIATE");
    sqlite.prepare("INSERT INTO orders (total) VALUES (?)").run(1999);
    const id = queue.addSync(1, { order: 1 });
    sqlite.exec("COMMIT");
    for (let i = 0; i < 100 && !ran.includes(id); i++) await new Promise((r) => setTimeout(r, 20));
    expect(ran).toEqual([id]);
    expect((await queue.getJob(id))?.status).toBe(JobStatus.Success);
  });

  it("a job enqueued with addSync() inside a rolled-back transaction never exists", () => {
    const before = count();
    sqlite.exec("BEGIN IMMEDIATE");
    sqlite.prepare("INSERT INTO orders (total) VALUES (?)").run(5);
    queue.addSync(1, { order: 2 });
    sqlite.exec("ROLLBACK");
    expect(count()).toBe(before);
  });
});

import { JobStatus, PersistentQueue } from "@persistent-queue/core";
import { createSqliteFile } from "@persistent-queue/testkit";
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { fromBetterSqlite3 } from "./index.js";

// better-sqlite3's own transactions are synchronous: addSync() enqueues inside them.
let file: Awaited<ReturnType<typeof createSqliteFile>>;
let sqlite: Database.Database;
let queue: PersistentQueue;
const ran: number[] = [];

beforeAll(async () => {
  file = await createSqliteFile();
  sqlite = new Database(file.path);
  const db = fromBetterSqlite3(sqlite);
  queue = new PersistentQueue({
    db,
    serviceName: "sync-tx",
    pollInterval: 50,
    jobs: [{ jobType: 1, handleJob: async (job) => void ran.push(job.id) }],
  });
  await queue.migrate();
  sqlite.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER NOT NULL)");
  await queue.start();
});
afterAll(async () => {
  await queue.stop();
  sqlite.close();
  await file.cleanup();
});

it("a job enqueued with addSync() inside a committed synchronous transaction runs", async () => {
  const id = sqlite.transaction(() => {
    sqlite.prepare("INSERT INTO orders (total) VALUES (?)").run(1999);
    return queue.addSync(1, { order: 1 });
  })();
  for (let i = 0; i < 100 && !ran.includes(id); i++) await new Promise((r) => setTimeout(r, 20));
  expect(ran).toEqual([id]);
  expect((await queue.getJob(id))?.status).toBe(JobStatus.Success);
});

it("a job enqueued with addSync() inside a rolled-back synchronous transaction never exists", async () => {
  const before = (sqlite.prepare("SELECT COUNT(*) AS n FROM async_job_tab").get() as { n: number })
    .n;
  expect(() =>
    sqlite.transaction(() => {
      sqlite.prepare("INSERT INTO orders (total) VALUES (?)").run(5);
      queue.addSync(1, { order: 2 });
      throw new Error("payment declined");
    })(),
  ).toThrow("payment declined");
  const after = (sqlite.prepare("SELECT COUNT(*) AS n FROM async_job_tab").get() as { n: number })
    .n;
  expect(after).toBe(before);
});

it("addSync() refuses a database that has no synchronous calls, with a typed error", () => {
  const asyncOnly = {
    dialect: "sqlite" as const,
    exec: async () => ({ affectedRows: 0 }),
    query: async () => [],
    ping: async () => {},
    close: async () => {},
  };
  expect(() => queue.addSync(1, {}, { db: asyncOnly })).toThrow(
    expect.objectContaining({ code: "ERR_PQ_UNSUPPORTED" }),
  );
});

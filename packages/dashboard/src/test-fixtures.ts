// Shared by the dashboard's tests (not part of the package's build): real
// databases from the testkit, and a queue that leaves jobs in every state a
// dashboard shows, by running real handlers.
import { fromBetterSqlite3 } from "@persistent-queue/better-sqlite3";
import { type DB, defineJob, JobStatus, PersistentQueue, ShedLock } from "@persistent-queue/core";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { fromPg } from "@persistent-queue/pg";
import { createDatabase, createSqliteFile } from "@persistent-queue/testkit";
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import pg from "pg";
import type { DashboardHandler } from "./handler.js";

/** A fresh, empty database and how to drop it. */
export interface TestDatabase {
  readonly db: DB;
  /** The SQLite file, for a second connection (the browser test's dashboard process). */
  readonly sqlitePath?: string;
  close(): Promise<void>;
}

export const openSqlite = async (): Promise<TestDatabase> => {
  const file = await createSqliteFile();
  const database = new Database(file.path);
  return {
    db: fromBetterSqlite3(database),
    sqlitePath: file.path,
    async close() {
      database.close();
      await file.cleanup();
    },
  };
};

export const openMariadb = async (url: string): Promise<TestDatabase> => {
  const created = await createDatabase({ kind: "mariadb", url });
  const pool = mysql.createPool({ uri: created.url, connectionLimit: 4 });
  return {
    db: fromMysql2(pool),
    async close() {
      await pool.end();
      await created.drop();
    },
  };
};

export const openPostgres = async (url: string): Promise<TestDatabase> => {
  const created = await createDatabase({ kind: "postgres", url });
  const pool = new pg.Pool({ connectionString: created.url, max: 4 });
  return {
    db: fromPg(pool),
    async close() {
      await pool.end();
      await created.drop();
    },
  };
};

/** The ids of the seeded jobs, by what happened to them. */
export interface Seeded {
  /** Type 1 ("order"), never run: waiting; `orders[0]` has orderId 42, `orders[2]` is delayed an hour. */
  readonly orders: number[];
  /** Type 2 ("mail"), ran and succeeded. */
  readonly mails: number[];
  /** Type 3 ("charge"), ran and failed with "card declined: insufficient funds". */
  readonly charges: number[];
}

export const FAILURE = "card declined: insufficient funds";

/** The seed's job types as a producer knows them (names, no handlers): what `jobs` takes. */
export const DEFINITIONS = [
  defineJob<{ orderId: number }>()({ jobType: 1, name: "order" }),
  defineJob({ jobType: 2, name: "mail" }),
  defineJob({ jobType: 3, name: "charge" }),
] as const;

/**
 * Migrates, then adds 3 waiting orders (type 1), 2 mails that succeed (type 2)
 * and 2 charges that fail (type 3), runs types 2 and 3 to the end, adds a
 * schedule and takes a ShedLock lock. Counts: type 1 init 3; type 2 success
 * 2; type 3 failed 2.
 */
export async function seed(db: DB): Promise<Seeded> {
  const [order] = DEFINITIONS;
  const mail = defineJob({ jobType: 2, name: "mail", handleJob: () => JobStatus.Success });
  const charge = defineJob({
    jobType: 3,
    name: "charge",
    maxRetries: 0,
    handleJob: () => {
      throw new Error(FAILURE);
    },
  });
  const queue = new PersistentQueue({
    db,
    serviceName: "dashboard-test",
    jobs: [order, mail, charge],
    pollInterval: 50,
  });
  await queue.migrate();
  const orders = [
    await queue.add(1, { orderId: 42 }),
    await queue.add(1, { orderId: 43 }),
    await queue.add(1, { orderId: 44 }, { delay: "1h" }),
  ];
  const mails = [await queue.add(2, {}), await queue.add(2, {})];
  const charges = [await queue.add(3, { amount: 10 }), await queue.add(3, { amount: 20 })];
  await queue.start();
  await Promise.all([...mails, ...charges].map((id) => queue.waitFor(id, { timeout: "20s" })));
  await queue.stop();
  await queue.schedule({ name: "nightly-report", cron: "0 3 * * *", jobType: 2, params: {} });
  await new ShedLock({ db, serviceName: "dashboard-test" }).tryLock("report-lock", {
    lockAtMostFor: "10m",
  });
  return { orders, mails, charges };
}

const ORIGIN = "http://dash.test";

/** A same-origin client of `handler`, as the dashboard's page is: it reads the token first. */
export async function client(handler: DashboardHandler, base = "") {
  const session = (await (await handler(new Request(`${ORIGIN}${base}/api/session`))).json()) as {
    csrfToken: string;
  };
  const get = (path: string) => handler(new Request(`${ORIGIN}${base}/api/${path}`));
  const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
    handler(
      new Request(`${ORIGIN}${base}/api/${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-pq-csrf": session.csrfToken,
          "sec-fetch-site": "same-origin",
          origin: ORIGIN,
          host: "dash.test",
          ...headers,
        },
        body: JSON.stringify(body ?? {}),
      }),
    );
  return { get, post, token: session.csrfToken };
}

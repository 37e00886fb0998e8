// An order and its notification job, written in one Drizzle transaction on an
// embedded SQLite file: the job exists only if the order does, and it runs once.
// Run with `npm start`; prints what happens and exits 0.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JobStatus, PersistentQueue } from "@persistent-queue/core";
import { fromDrizzle, sqliteQueueTables } from "@persistent-queue/drizzle";
import Database from "better-sqlite3";
import { eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

const orders = sqliteTable("orders", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  item: text("item").notNull(),
});

// The queue's own tables as Drizzle tables, to read jobs with the query builder.
const { jobs: asyncJobTab } = sqliteQueueTables();

const dir = mkdtempSync(join(tmpdir(), "pq-drizzle-sqlite-"));
const sqlite = new Database(join(dir, "shop.sqlite"));
const db = drizzle(sqlite);

let notified!: (orderId: number) => void;
const notification = new Promise<number>((resolve) => (notified = resolve));

const queue = new PersistentQueue({
  db: fromDrizzle(db),
  serviceName: "drizzle-sqlite-example",
  jobs: [
    {
      jobType: 1,
      name: "send-order-noti",
      handleJob: async (job: { params: { orderId: number } }) => {
        console.log(`job ran: notified order ${job.params.orderId}`);
        notified(job.params.orderId);
        return JobStatus.Success;
      },
    },
  ] as const,
});

let stopped = false;
try {
  await queue.migrate(); // the queue's tables; sqliteQueueTables() maps them for Drizzle queries
  db.run(sql`CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL)`);
  await queue.start();

  // better-sqlite3 transactions are synchronous: enqueue with addSync on a DB made from `tx`.
  const { orderId, jobId } = db.transaction((tx) => {
    const [order] = tx.insert(orders).values({ item: "book" }).returning().all();
    if (!order) throw new Error("the order was not written");
    const id = queue.addSync(1, { orderId: order.id }, { db: fromDrizzle(tx) });
    return { orderId: order.id, jobId: id };
  });
  console.log(`order ${orderId} written with job ${jobId} in one transaction`);

  // A transaction that fails takes its job with it.
  try {
    db.transaction((tx) => {
      tx.insert(orders).values({ item: "pen" }).run();
      queue.addSync(1, { orderId: -1 }, { db: fromDrizzle(tx) });
      throw new Error("payment declined");
    });
  } catch (err) {
    const pens = db.select().from(orders).where(eq(orders.item, "pen")).all().length;
    const jobs = db.select().from(asyncJobTab).all().length;
    console.log(
      `rolled back (${(err as Error).message}): ${pens} pen orders, ${jobs} job in the table`,
    );
  }

  console.log(`notification sent for order ${await notification}`);
  // The completion is written in a batch just after the handler returns; read it back through Drizzle.
  const status = () => db.select().from(asyncJobTab).where(eq(asyncJobTab.id, jobId)).get();
  while (status()?.jobStatus !== JobStatus.Success) await new Promise((r) => setTimeout(r, 20));
  console.log(
    `job ${jobId} status ${status()?.jobStatus} (1 = success), attempts ${status()?.attempts}`,
  );
  await queue.stop();
  stopped = true;
  console.log("queue stopped");
} finally {
  if (!stopped) await queue.stop({ timeoutMs: 1000 });
  sqlite.close();
  rmSync(dir, { recursive: true, force: true });
}

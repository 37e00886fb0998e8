// persistent-queue with Kysely on MariaDB/MySQL: an order and its job in one Kysely transaction,
// and the queue's own table read through Kysely's typed query builder (QueueTables types).
// Uses the server at PQ_MYSQL_URL if set, else starts a throwaway MariaDB (stopped at the end).
import { defineJob, JobStatus, PersistentQueue } from "@persistent-queue/core";
import { fromKysely, type MysqlQueueTables } from "@persistent-queue/kysely";
import { createDatabase, mariadbFromEnvOrStart } from "@persistent-queue/testkit";
import { type Generated, Kysely, MysqlDialect } from "kysely";
import { createPool } from "mysql2";

interface Shop {
  orders: { id: Generated<number>; item: string };
}

const server = await mariadbFromEnvOrStart();
const database = await createDatabase({ kind: "mariadb", url: server.url });
// Kysely's MysqlDialect takes mysql2's callback pool.
const db = new Kysely<MysqlQueueTables & Shop>({
  dialect: new MysqlDialect({ pool: createPool({ uri: database.url, connectionLimit: 4 }) }),
});

let shipped!: (orderId: number) => void;
const shipment = new Promise<number>((resolve) => (shipped = resolve));
const shipOrder = defineJob({
  jobType: 1,
  name: "ship-order",
  handleJob: async (job: { params: { orderId: number } }) => {
    console.log(`order ${job.params.orderId} shipped`);
    shipped(job.params.orderId);
    return JobStatus.Success;
  },
});

try {
  await db.schema
    .createTable("orders")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("item", "varchar(100)", (c) => c.notNull())
    .execute();
  const queue = new PersistentQueue({
    db: fromKysely(db),
    serviceName: "kysely-example",
    pollInterval: 100,
    jobs: [shipOrder],
  });
  await queue.migrate();

  // The business write and the job in one transaction: both commit, or neither exists.
  const jobId = await db.transaction().execute(async (trx) => {
    const { insertId } = await trx
      .insertInto("orders")
      .values({ item: "book" })
      .executeTakeFirstOrThrow();
    return queue.add("ship-order", { orderId: Number(insertId) }, { db: fromKysely(trx) });
  });
  console.log(`order 1 committed with job ${jobId}`);
  await db
    .transaction()
    .execute(async (trx) => {
      const { insertId } = await trx
        .insertInto("orders")
        .values({ item: "lamp" })
        .executeTakeFirstOrThrow();
      await queue.add("ship-order", { orderId: Number(insertId) }, { db: fromKysely(trx) });
      throw new Error("out of stock");
    })
    .catch((err: Error) => console.log(`second order rolled back (${err.message})`));

  // The queue's table through the typed query builder: the job waits (status 0) until start().
  const waiting = await db
    .selectFrom("async_job_tab")
    .select(["id", "job_type", "job_status", "attempts"])
    .execute();
  console.log(`waiting: ${JSON.stringify(waiting)}`);

  await queue.start();
  let timer: NodeJS.Timeout | undefined;
  const orderId = await Promise.race([
    shipment,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("the job did not run within 15 s")), 15_000);
    }),
  ]);
  clearTimeout(timer);
  await queue.stop();
  const row = await db
    .selectFrom("async_job_tab")
    .select(["job_status", "attempts"])
    .where("id", "=", jobId)
    .executeTakeFirstOrThrow();
  const status = row.job_status ?? 0;
  console.log(
    `job ${jobId} for order ${orderId}: status ${status} (${JobStatus[status]}), attempts ${row.attempts}`,
  );
} finally {
  await db.destroy();
  await database.drop();
  await server.stop(); // a no-op for a server from PQ_MYSQL_URL
}

// An order and its notification job, written in one TypeORM transaction on MySQL/MariaDB.
// Uses the server at PQ_MYSQL_URL if set, else starts a throwaway MariaDB (and stops it at the end).
import { JobStatus, PersistentQueue } from "@persistent-queue/core";
import { createDatabase, mariadbFromEnvOrStart } from "@persistent-queue/testkit";
import {
  createQueueEntitySchemas,
  fromTypeORM,
  PersistentQueueSchema1764000000000,
} from "@persistent-queue/typeorm";
import { DataSource, EntitySchema } from "typeorm";

interface Order {
  id: number;
  customer: string;
  total: number;
}
const OrderEntity = new EntitySchema<Order>({
  name: "Order",
  tableName: "orders",
  columns: {
    id: { type: "int", primary: true, generated: "increment" },
    customer: { type: "varchar", length: 100 },
    total: { type: "int" },
  },
});
const { AsyncJob, ShedLock } = createQueueEntitySchemas(EntitySchema, "mariadb");

const server = await mariadbFromEnvOrStart();
const database = await createDatabase({ kind: "mariadb", url: server.url });
const dataSource = new DataSource({
  // The server is MariaDB: TypeORM's "mariadb" type (through mysql2). Its "mysql" type misreads
  // MariaDB's column defaults, and synchronize() would then restate (and make visible) every
  // nullable column the queue added.
  type: "mariadb",
  url: database.url,
  entities: [OrderEntity, AsyncJob, ShedLock],
  migrations: [PersistentQueueSchema1764000000000],
});

let notified!: (orderId: number) => void;
const notification = new Promise<number>((resolve) => (notified = resolve));

try {
  await dataSource.initialize();
  const migrations = await dataSource.runMigrations(); // the queue's tables, by TypeORM's migration runner
  console.log(`migrations applied: ${migrations.map((m) => m.name).join(", ")}`);
  await dataSource.synchronize(); // the app's own table (orders); the queue's tables already match
  const queue = new PersistentQueue({
    db: fromTypeORM(dataSource),
    serviceName: "typeorm-example",
    jobs: [
      {
        jobType: 1,
        name: "send-order-notification",
        handleJob: async (job: { params: { orderId: number } }) => {
          console.log(`notification sent for order #${job.params.orderId}`);
          notified(job.params.orderId);
          return JobStatus.Success;
        },
      },
    ] as const,
  });
  await queue.start();

  // The business write and the job, atomically: both exist or neither does.
  const { order, jobId } = await dataSource.transaction(async (manager) => {
    const order = await manager.getRepository(OrderEntity).save({ customer: "Ada", total: 4200 });
    const jobId = await queue.add(1, { orderId: order.id }, { db: fromTypeORM(manager) });
    return { order, jobId };
  });
  console.log(`order #${order.id} committed with notification job #${jobId}`);

  // A transaction that fails takes its job with it.
  await dataSource
    .transaction(async (manager) => {
      const doomed = await manager.getRepository(OrderEntity).save({ customer: "Bob", total: 1 });
      await queue.add(1, { orderId: doomed.id }, { db: fromTypeORM(manager) });
      throw new Error("card declined");
    })
    .catch((err: Error) => console.log(`second order rolled back (${err.message})`));
  const orders = await dataSource.getRepository(OrderEntity).count();
  const jobs = await dataSource.getRepository(AsyncJob).count();
  console.log(`rows after the rollback: ${orders} order(s), ${jobs} job(s)`);

  const ran = await Promise.race([
    notification,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error("the job did not run within 15 s")), 15_000),
    ),
  ]);
  await queue.stop();
  const row = await dataSource.getRepository(AsyncJob).findOneByOrFail({ id: jobId });
  console.log(
    `job #${jobId} for order #${ran}: status ${row.job_status} (${JobStatus[row.job_status ?? 0]}), attempts ${row.attempts}`,
  );
} finally {
  if (dataSource.isInitialized) await dataSource.destroy();
  await database.drop();
  await server.stop(); // a no-op for a server from PQ_MYSQL_URL
}

// An order and its notification job, written in one Sequelize transaction on
// MariaDB (or MySQL): the job exists only if the order does, and it runs once.
// Uses PQ_MYSQL_URL when set, else starts a throwaway MariaDB and stops it at the end.
import { JobStatus, PersistentQueue } from "@persistent-queue/core";
import { fromSequelize, queueMigration } from "@persistent-queue/sequelize";
import { createDatabase, mariadbFromEnvOrStart } from "@persistent-queue/testkit";
import { DataTypes, Sequelize } from "sequelize";

const server = await mariadbFromEnvOrStart();
const database = await createDatabase({ kind: "mariadb", url: server.url });
console.log(
  `MariaDB ${server.version} (${server.owned ? "throwaway" : "PQ_MYSQL_URL"}), database ${database.name}`,
);

// The mariadb dialect needs foundRows: the queue's lease checks count matched rows.
const sequelize = new Sequelize(database.url.replace(/^mysql:/, "mariadb:"), {
  dialect: "mariadb",
  dialectOptions: { foundRows: true },
  logging: false,
});
const Order = sequelize.define("Order", {
  id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
  item: { type: DataTypes.STRING, allowNull: false },
});

let notified!: (orderId: number) => void;
const notification = new Promise<number>((resolve) => (notified = resolve));
const queue = new PersistentQueue({
  db: fromSequelize(sequelize),
  serviceName: "order-service",
  jobs: [
    {
      jobType: 1,
      name: "send-order-notification",
      handleJob: async (job: { id: number; params: { orderId: number } }) => {
        console.log(`job #${job.id}: notification sent for order #${job.params.orderId}`);
        notified(job.params.orderId);
        return JobStatus.Success;
      },
    },
  ],
});

try {
  // The queue's tables the Sequelize way (what sequelize-cli would run), then the app's own.
  await queueMigration.up(sequelize.getQueryInterface());
  await Order.sync();
  await queue.migrate(); // records the versions; on MySQL it makes the added columns INVISIBLE
  await queue.start();

  // Rolled back: neither the order nor its job is ever written.
  await sequelize
    .transaction(async (t) => {
      const order = await Order.create({ item: "broken teapot" }, { transaction: t });
      await queue.add(
        1,
        { orderId: order.get("id") as number },
        { db: fromSequelize(sequelize, { transaction: t }) },
      );
      throw new Error("payment declined");
    })
    .catch((err: Error) => console.log(`order rolled back: ${err.message}`));
  console.log(`after rollback: orders=${await Order.count()}, jobs=${await jobCount()}`);

  // Committed: the order and its job commit together.
  const jobId = await sequelize.transaction(async (t) => {
    const order = await Order.create({ item: "teapot" }, { transaction: t });
    console.log(`order #${order.get("id")} written in the transaction`);
    return queue.add(
      1,
      { orderId: order.get("id") as number },
      { db: fromSequelize(sequelize, { transaction: t }) },
    );
  });
  console.log(`committed: order and job #${jobId} are in`);

  const orderId = await Promise.race([
    notification,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error("the job did not run within 15 s")), 15_000),
    ),
  ]);
  // Completions are written in batches, just after the handler returns.
  let record = await queue.getJob(jobId);
  for (let i = 0; i < 100 && record?.status !== JobStatus.Success; i++) {
    await new Promise((r) => setTimeout(r, 50));
    record = await queue.getJob(jobId);
  }
  console.log(
    `job #${jobId} for order #${orderId}: status ${JobStatus[record?.status ?? -1]}, attempts ${record?.attempts}`,
  );
} finally {
  await queue.stop();
  await sequelize.close();
  await database.drop();
  await server.stop();
}

// Through the adapter: Sequelize 6.37's own sequelize.query() SELECT fails with the
// mariadb 3.4 connector ("Cannot delete property 'meta'"); the adapter goes to the driver.
async function jobCount(): Promise<number> {
  const [row] = await fromSequelize(sequelize).query("SELECT COUNT(*) AS n FROM async_job_tab");
  return Number(row?.n);
}

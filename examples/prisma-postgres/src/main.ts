// An order and its notification job, written in one Prisma interactive transaction on PostgreSQL.
// Uses the server at PQ_PG_URL if set, else starts a throwaway PostgreSQL (and stops it at the end).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { JobStatus, PersistentQueue } from "@persistent-queue/core";
import { fromPrisma } from "@persistent-queue/prisma";
import { createDatabase, postgresFromEnvOrStart } from "@persistent-queue/testkit";
import { PrismaPg } from "@prisma/adapter-pg";

// The client is generated from prisma/schema.prisma (Order + the queue's models) on first run.
// PRISMA_SCHEMA_ENGINE_BINARY=/bin/false: generating needs no engine, and this keeps the CLI
// from trying to download one (it cannot, offline).
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
if (!existsSync(here("../generated/client/client.ts"))) {
  const cli = createRequire(import.meta.url).resolve("prisma/build/index.js");
  execFileSync(process.execPath, [cli, "generate", "--schema", here("../prisma/schema.prisma")], {
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: "/bin/false" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  console.log("prisma client generated");
}
const { PrismaClient } = await import("../generated/client/client.js");

const server = await postgresFromEnvOrStart();
const database = await createDatabase({ kind: "postgres", url: server.url });
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });

let notified!: (orderId: number) => void;
const notification = new Promise<number>((resolve) => (notified = resolve));

try {
  const queue = new PersistentQueue({
    db: fromPrisma(prisma),
    serviceName: "prisma-example",
    pollInterval: 100,
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
  // Prisma's migrate cannot run here (offline): the queue's tables come from core's migrations,
  // the app's own table from plain SQL matching its model.
  const { applied } = await queue.migrate();
  console.log(`queue migrations applied: ${applied.join(", ")}`);
  await prisma.$executeRawUnsafe(
    "CREATE TABLE IF NOT EXISTS orders (id SERIAL PRIMARY KEY, customer VARCHAR(100) NOT NULL, total INTEGER NOT NULL)",
  );
  await queue.start();

  // The business write and the job, atomically: both exist or neither does.
  const { order, jobId } = await prisma.$transaction(async (tx) => {
    const order = await tx.order.create({ data: { customer: "Ada", total: 4200 } });
    const jobId = await queue.add(1, { orderId: order.id }, { db: fromPrisma(tx) });
    return { order, jobId };
  });
  console.log(`order #${order.id} committed with notification job #${jobId}`);

  // A transaction that fails takes its job with it.
  await prisma
    .$transaction(async (tx) => {
      const doomed = await tx.order.create({ data: { customer: "Bob", total: 1 } });
      await queue.add(1, { orderId: doomed.id }, { db: fromPrisma(tx) });
      throw new Error("card declined");
    })
    .catch((err: Error) => console.log(`second order rolled back (${err.message})`));
  const orders = await prisma.order.count();
  const jobs = await prisma.asyncJob.count();
  console.log(`rows after the rollback: ${orders} order(s), ${jobs} job(s)`);

  const ran = await Promise.race([
    notification,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error("the job did not run within 15 s")), 15_000),
    ),
  ]);
  await queue.stop();
  const row = await prisma.asyncJob.findUniqueOrThrow({ where: { id: BigInt(jobId) } });
  const status = row.jobStatus ?? 0;
  console.log(
    `job #${jobId} for order #${ran}: status ${status} (${JobStatus[status]}), attempts ${row.attempts}`,
  );
} finally {
  await prisma.$disconnect();
  await database.drop();
  await server.stop(); // a no-op for a server from PQ_PG_URL
}

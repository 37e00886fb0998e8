// persistent-queue on postgres.js: an order and its job in one `sql.begin()` transaction, and
// jobs picked up at once through LISTEN/NOTIFY (no polling wait: the poll interval here is 30 s).
// Uses the server at PQ_PG_URL if set, else starts a throwaway PostgreSQL (stopped at the end).
import { defineJob, JobStatus, PersistentQueue } from "@persistent-queue/core";
import { fromPostgresJs } from "@persistent-queue/postgres";
import { createDatabase, postgresFromEnvOrStart } from "@persistent-queue/testkit";
import postgres from "postgres";

const server = await postgresFromEnvOrStart();
const database = await createDatabase({ kind: "postgres", url: server.url });
// onnotice: quiet the migrations' "already exists, skipping" notices. A multi-host URL
// (postgres://a,b/app?target_session_attrs=read-write) works the same way: see the package README.
const sql = postgres(database.url, { max: 4, onnotice: () => {} });

const picked = new Map<number, number>(); // job id -> ms from add() to the handler
const started = new Map<number, number>();
let allRan!: () => void;
const ran = new Promise<void>((resolve) => (allRan = resolve));
const sendReceipt = defineJob({
  jobType: 1,
  name: "send-receipt",
  handleJob: async (job: { id: number; params: { orderId: number } }) => {
    picked.set(job.id, performance.now() - (started.get(job.id) ?? 0));
    console.log(`receipt sent for order ${job.params.orderId}`);
    if (picked.size === 3) allRan();
    return JobStatus.Success;
  },
});

try {
  await sql`CREATE TABLE orders (id SERIAL PRIMARY KEY, customer TEXT NOT NULL)`;
  const queue = new PersistentQueue({
    db: fromPostgresJs(sql),
    serviceName: "postgres-js-example",
    pollInterval: "30s", // LISTEN/NOTIFY wakes the workers; polling is only the fallback
    jobs: [sendReceipt],
  });
  await queue.migrate();
  await queue.start();

  // The business write and the job in one transaction: both commit, or neither exists.
  for (const customer of ["Ada", "Grace", "Linus"]) {
    const t0 = performance.now();
    const jobId = await sql.begin(async (tx) => {
      const [order] = await tx<
        { id: number }[]
      >`INSERT INTO orders (customer) VALUES (${customer}) RETURNING id`;
      return queue.add("send-receipt", { orderId: order!.id }, { db: fromPostgresJs(tx) });
    });
    started.set(jobId, t0);
    console.log(`order for ${customer} committed with job ${jobId}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await sql
    .begin(async (tx) => {
      const [order] = await tx<
        { id: number }[]
      >`INSERT INTO orders (customer) VALUES ('Mallory') RETURNING id`;
      await queue.add("send-receipt", { orderId: order!.id }, { db: fromPostgresJs(tx) });
      throw new Error("card declined");
    })
    .catch((err: Error) => console.log(`fourth order rolled back (${err.message})`));

  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    ran,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("the jobs did not run within 10 s")), 10_000);
    }),
  ]);
  clearTimeout(timer);
  await queue.stop();
  const [counts] = await sql<{ orders: number; jobs: number }[]>`
    SELECT (SELECT count(*)::int FROM orders) AS orders, (SELECT count(*)::int FROM async_job_tab) AS jobs`;
  console.log(`rows: ${counts!.orders} orders, ${counts!.jobs} jobs`);
  const slowest = Math.max(...picked.values());
  // Woken by NOTIFY, each job runs within milliseconds, far below the 30 s poll interval.
  console.log(
    `every job ran within ${slowest < 1000 ? "a second" : `${Math.round(slowest)} ms`} of its commit`,
  );
} finally {
  await sql.end({ timeout: 5 });
  await database.drop();
  await server.stop(); // a no-op for a server from PQ_PG_URL
}

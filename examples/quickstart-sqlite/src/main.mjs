// The quick start: persistent-queue on an embedded SQLite file. No server.
//
//   npm start            (from the repository root, after npm ci)
//
// It migrates a SQLite file, enqueues jobs that show each behaviour, prints
// what happens as it happens, and ends with a table of outcomes read back
// from the database.
//
// The driver: Node's built-in node:sqlite when the running Node has it (22.13+, 24), so
// nothing needs compiling; else (Node 20) the better-sqlite3 addon. PQ_QUICKSTART_DRIVER=
// better-sqlite3 or node:sqlite picks one. Both adapters share one body in core's kit.
import { rmSync } from "node:fs";
import { defineJob, JobStatus, PersistentQueue } from "@persistent-queue/core";

const file = process.env.PQ_QUICKSTART_DB ?? "quickstart.sqlite";
for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });

const builtin = process.getBuiltinModule?.("node:sqlite"); // undefined on Node 20
const driver = process.env.PQ_QUICKSTART_DRIVER ?? (builtin ? "node:sqlite" : "better-sqlite3");
/** Opens the file with the chosen driver: the raw handle (for plain SQL) and the queue's DB. */
async function open() {
  if (driver === "node:sqlite") {
    if (!builtin) throw new Error(`node:sqlite is not in Node ${process.version}: use Node 22.13+`);
    const { fromNodeSqlite } = await import("@persistent-queue/node-sqlite");
    const sqlite = new builtin.DatabaseSync(file);
    return { sqlite, db: fromNodeSqlite(sqlite) }; // WAL and a busy timeout are set for you
  }
  if (driver !== "better-sqlite3")
    throw new Error(`PQ_QUICKSTART_DRIVER=${driver}: use node:sqlite or better-sqlite3`);
  const [{ fromBetterSqlite3 }, { default: Database }] = await Promise.all([
    import("@persistent-queue/better-sqlite3"),
    import("better-sqlite3"), // loaded only here: a Node 22+ install without its build still runs
  ]);
  const sqlite = new Database(file);
  return { sqlite, db: fromBetterSqlite3(sqlite) };
}
const { sqlite, db } = await open();
const t0 = Date.now();
const log = (text) => console.log(`${String(Date.now() - t0).padStart(5)} ms  ${text}`);

const jobs = [
  defineJob({
    jobType: 1,
    name: "send-email",
    handleJob: async (job) => {
      await new Promise((r) => setTimeout(r, 20)); // pretend to talk to a mail server
      log(`send-email #${job.id}: sent to ${job.params.to}`);
    }, // returning nothing = Success
  }),
  defineJob({
    jobType: 2,
    name: "reminder",
    handleJob: async (job) => {
      log(
        `reminder #${job.id}: ran ${Date.now() - job.params.enqueuedAt} ms after it was enqueued (asked: 1500)`,
      );
      return JobStatus.Success;
    },
  }),
  defineJob({
    jobType: 3,
    name: "flaky-payment",
    needRetry: true,
    maxRetries: 3,
    waitTime: "300ms",
    handleJob: async (job) => {
      if (job.attempts < 3) throw new Error(`payment gateway timeout (attempt ${job.attempts})`);
      log(`flaky-payment #${job.id}: charged on attempt ${job.attempts}`);
    },
  }),
  defineJob({
    jobType: 4,
    name: "poll-settlement",
    waitTime: "250ms",
    handleJob: async (job) => {
      const polls = (pollCount.get(job.id) ?? 0) + 1;
      pollCount.set(job.id, polls);
      if (polls < 4) {
        log(
          `poll-settlement #${job.id}: not settled yet (poll ${polls}), checking again in 250 ms`,
        );
        return JobStatus.Continue; // runs again after waitTime, not counted as a retry
      }
      log(`poll-settlement #${job.id}: settled after ${polls} polls`);
      return JobStatus.Success;
    },
  }),
  defineJob({
    jobType: 5,
    name: "bad-address",
    needRetry: true,
    maxRetries: 2,
    waitTime: "200ms",
    handleJob: async () => {
      throw new Error("mailbox does not exist");
    },
  }),
];
const pollCount = new Map();

const queue = new PersistentQueue({ db, serviceName: "quickstart", jobs, pollInterval: "200ms" });
queue.on("retrying", ({ job, error, delayMs }) =>
  log(`${job.name} #${job.id}: failed (${error.message}); retry in ${delayMs} ms`),
);
queue.on("failed", ({ job, error }) =>
  log(`${job.name} #${job.id}: FAILED for good: ${error.message}`),
);

const { applied, version } = await queue.migrate();
log(
  `migrated ${file} (through ${driver}): schema version ${version}${applied.length ? ` (applied ${applied.join(", ")})` : ""}`,
);
await queue.start();

// A job type is addressed by its name (or its integer, the job_type column: add(1, …)).
const ids = [];
for (const to of ["ada@example.com", "grace@example.com", "linus@example.com"])
  ids.push(await queue.add("send-email", { to }));
ids.push(await queue.add("reminder", { enqueuedAt: Date.now() }, { delay: "1500ms" }));
ids.push(await queue.add("flaky-payment", { orderId: 42, amount: 1999 }));
ids.push(await queue.add("poll-settlement", { orderId: 42 }));
ids.push(await queue.add("bad-address", { to: "nobody@invalid" }));
// The Go library's contract: a row inserted by plain SQL from anywhere is picked up too.
const now = Math.floor(Date.now() / 1000);
const inserted = sqlite
  .prepare(
    "INSERT INTO async_job_tab (params, job_type, job_status, start_time, create_time, update_time) VALUES (?, 1, 0, 0, ?, ?)",
  )
  .run(JSON.stringify({ to: "plain-sql@example.com" }), now, now);
ids.push(Number(inserted.lastInsertRowid));
log(`enqueued ${ids.length} jobs (one by plain SQL)`);

// Wait until every job has a final status (Success or Failed), at most 20 s.
const deadline = Date.now() + 20_000;
let rows = [];
for (;;) {
  rows = await Promise.all(ids.map((id) => queue.getJob(id)));
  if (rows.every((r) => r.status === JobStatus.Success || r.status === JobStatus.Failed)) break;
  if (Date.now() > deadline) {
    console.error("quick start: jobs did not finish within 20 s");
    process.exitCode = 1;
    break;
  }
  await new Promise((r) => setTimeout(r, 100));
}
await queue.stop();
await db.close();

console.log("\nOutcomes, as stored in async_job_tab:");
console.table(
  rows.map((r) => ({
    id: r.id,
    job: r.name,
    status: `${r.status} ${JobStatus[r.status]}`,
    attempts: r.attempts,
    last_error: r.lastError ?? "",
  })),
);
const expected = {
  1: JobStatus.Success,
  2: JobStatus.Success,
  3: JobStatus.Success,
  4: JobStatus.Success,
  5: JobStatus.Failed,
};
const wrong = rows.filter((r) => r.status !== expected[r.jobType]);
if (wrong.length > 0) {
  console.error(`quick start: ${wrong.length} jobs ended differently than expected`);
  process.exitCode = 1;
}

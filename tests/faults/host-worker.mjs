// A worker host for the fault tests with hosts of their own (partition, many
// hosts), started inside a network namespace (`ip netns exec <ns> node
// host-worker.mjs …`). Runs type-1 jobs (each sleeps <handlerMs>, ignoring its
// signal, like work that does not look at it; 0: returns at once) with
// <capacity> slots (default 8) and prints one line per event, the time
// (Date.now()) last but one field before any message:
//   worker <workerId> <t>          once, when the queue has started
//   run <id> <t>                   a handler started
//   end <id> <t>                   a handler returned (its result is then written, or fenced)
//   done <id> <t>                  the engine wrote this run's Success and the database confirmed it
//   fenced <id> <t>                the engine discarded this run's result: the lease was lost (the "lost" event)
//   aborted <id> <t>               a heartbeat found the lease gone while the handler ran (logged warning)
//   rescued <count> <t>            this worker's rescue pass made expired leases claimable again (logged warning)
//   error <during> <t> <message>   a bookkeeping statement failed; the queue retries it
// Usage: node host-worker.mjs <mariadb|postgres> <url> <name> <leaseMs> <handlerMs> [capacity]
import { PersistentQueue } from "@persistent-queue/core";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { fromPg } from "@persistent-queue/pg";
import mysql from "mysql2/promise";
import pg from "pg";

const [kind, url, name, leaseMs, handlerMs, capacity = "8"] = process.argv.slice(2);
const out = (line) => process.stdout.write(`${line}\n`);
const db =
  kind === "mariadb"
    ? fromMysql2(mysql.createPool({ uri: url, connectionLimit: 6 }))
    : fromPg(new pg.Pool({ connectionString: url, max: 6 }));
const sleepMs = Number(handlerMs);
const logger = {
  info() {},
  error() {},
  warn(context, message) {
    if (typeof message === "string" && message.startsWith("lease lost while running"))
      out(`aborted ${context?.jobId} ${Date.now()}`);
    if (typeof message === "string" && message.startsWith("rescued jobs"))
      out(`rescued ${context?.count} ${Date.now()}`);
  },
};
const queue = new PersistentQueue({
  db,
  serviceName: `host-${name}`,
  pollInterval: 50,
  logger,
  jobs: [
    {
      jobType: 1,
      leaseTime: Number(leaseMs),
      workerPoolCapacity: Number(capacity),
      handleJob: async (job) => {
        out(`run ${job.id} ${Date.now()}`);
        if (sleepMs > 0) await new Promise((r) => setTimeout(r, sleepMs));
        out(`end ${job.id} ${Date.now()}`);
      },
    },
  ],
});
queue.on("completed", ({ job }) => out(`done ${job.id} ${Date.now()}`));
queue.on("lost", ({ jobId }) => out(`fenced ${jobId} ${Date.now()}`));
queue.on("error", ({ during, error }) =>
  out(`error ${during} ${Date.now()} ${String(error?.message ?? error).replace(/\s+/g, " ")}`),
);
await queue.start();
out(`worker ${queue.workerId} ${Date.now()}`);

// A worker process for the SIGKILL rounds: runs type-1 jobs (40 ms each) and
// prints its worker id once, then "run <id>" when a handler starts and
// "done <id>" when its completion is written.
// Usage: node sigkill-worker.mjs <mariadb|postgres> <url>
import { PersistentQueue } from "@persistent-queue/core";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { fromPg } from "@persistent-queue/pg";
import mysql from "mysql2/promise";
import pg from "pg";

const [kind, url] = process.argv.slice(2);
const db =
  kind === "mariadb"
    ? fromMysql2(mysql.createPool({ uri: url, connectionLimit: 6 }))
    : fromPg(new pg.Pool({ connectionString: url, max: 6 }));
const queue = new PersistentQueue({
  db,
  serviceName: "sigkill",
  pollInterval: 50,
  jobs: [
    {
      jobType: 1,
      leaseTime: 1000,
      workerPoolCapacity: 8,
      handleJob: async (job) => {
        process.stdout.write(`run ${job.id}\n`);
        await new Promise((r) => setTimeout(r, 40));
      },
    },
  ],
});
queue.on("completed", ({ job }) => process.stdout.write(`done ${job.id}\n`));
process.stdout.write(`worker ${queue.workerId}\n`);
await queue.start();

// A worker process whose handler crashes the process (exit 1) on every job:
// the poison job of the fault tests. Usage: node poison-worker.mjs <mariadb|postgres> <url>
import { PersistentQueue } from "@persistent-queue/core";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { fromPg } from "@persistent-queue/pg";
import mysql from "mysql2/promise";
import pg from "pg";

const [kind, url] = process.argv.slice(2);
const db =
  kind === "mariadb"
    ? fromMysql2(mysql.createPool({ uri: url, connectionLimit: 4 }))
    : fromPg(new pg.Pool({ connectionString: url, max: 4 }));
const queue = new PersistentQueue({
  db,
  serviceName: "poison",
  pollInterval: 50,
  jobs: [
    {
      jobType: 66,
      leaseTime: 500,
      handleJob: async (job) => {
        process.stdout.write(`crashing on ${job.id} attempt ${job.attempts}\n`);
        process.exit(1);
      },
    },
  ],
});
await queue.start();

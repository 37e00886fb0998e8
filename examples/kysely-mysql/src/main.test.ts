import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, inject, it } from "vitest";

it("the Kysely example commits an order with its job, rolls one back, reads the job through the query builder, runs it and exits 0", {
  timeout: 120_000,
}, async () => {
  const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
  const { stdout, stderr } = await promisify(execFile)(tsx, ["src/main.ts"], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    // The run's MariaDB, so the example does not start its own.
    env: { ...process.env, PQ_MYSQL_URL: inject("pqMysqlUrl") },
  });
  expect(stderr).toBe("");
  expect(stdout.trim().split("\n")).toEqual([
    "order 1 committed with job 1",
    "second order rolled back (out of stock)",
    'waiting: [{"id":1,"job_type":1,"job_status":0,"attempts":0}]',
    "order 1 shipped",
    "job 1 for order 1: status 1 (Success), attempts 1",
  ]);
});

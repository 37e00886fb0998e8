import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

it("writes an order and its job in one Sequelize transaction; the job runs once; exits 0", {
  timeout: 120_000,
}, async () => {
  const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
  // execFile rejects on a non-zero exit, so resolving means exit code 0.
  const { stdout } = await promisify(execFile)(tsx, ["src/main.ts"], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: process.env, // PQ_MYSQL_URL from the test run's setup, when it set one
  });
  expect(stdout).toMatch(/order rolled back: payment declined/);
  expect(stdout).toMatch(/after rollback: orders=0, jobs=0/);
  expect(stdout).toMatch(/committed: order and job #\d+ are in/);
  const ran = stdout.match(/notification sent for order #\d+/g) ?? [];
  expect(ran).toHaveLength(1);
  expect(stdout).toMatch(/job #\d+ for order #\d+: status Success, attempts 1/);
});

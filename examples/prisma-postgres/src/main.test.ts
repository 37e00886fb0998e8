import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, inject, it } from "vitest";

it("the Prisma example commits an order with its job, rolls back another, runs the job and exits 0", {
  timeout: 120_000,
}, async () => {
  const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
  const { stdout } = await promisify(execFile)(tsx, ["src/main.ts"], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    // The run's PostgreSQL, so the example does not start its own.
    env: { ...process.env, PQ_PG_URL: inject("pqPgUrl") },
  });
  expect(stdout).toMatch(/queue migrations applied: 1, 2/);
  expect(stdout).toMatch(/order #1 committed with notification job #1/);
  expect(stdout).toMatch(/second order rolled back \(card declined\)/);
  expect(stdout).toMatch(/rows after the rollback: 1 order\(s\), 1 job\(s\)/);
  expect(stdout).toMatch(/notification sent for order #1/);
  expect(stdout).toMatch(/job #1 for order #1: status 1 \(Success\), attempts 1/);
});

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, inject, it } from "vitest";

it("the postgres.js example commits orders with their jobs, rolls one back, wakes the workers by NOTIFY and exits 0", {
  timeout: 120_000,
}, async () => {
  const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
  const { stdout, stderr } = await promisify(execFile)(tsx, ["src/main.ts"], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    // The run's PostgreSQL, so the example does not start its own.
    env: { ...process.env, PQ_PG_URL: inject("pqPgUrl") },
  });
  expect(stderr).toBe("");
  expect(stdout).toMatch(/order for Ada committed with job 1\n/);
  expect(stdout).toMatch(/order for Linus committed with job 3\n/);
  expect(stdout).toMatch(/fourth order rolled back \(card declined\)/);
  for (const order of [1, 2, 3]) expect(stdout).toContain(`receipt sent for order ${order}\n`);
  expect(stdout).not.toContain("receipt sent for order 4");
  expect(stdout).toMatch(/rows: 3 orders, 3 jobs/);
  // The poll interval is 30 s: a job run within a second was woken by NOTIFY.
  expect(stdout).toMatch(/every job ran within a second of its commit/);
});

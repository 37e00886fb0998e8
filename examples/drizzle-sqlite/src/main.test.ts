import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const cwd = fileURLToPath(new URL("../", import.meta.url));

it("writes an order and its job in one Drizzle transaction; the job runs once; exits 0", () => {
  const run = spawnSync(`${root}node_modules/.bin/tsx`, ["src/main.ts"], {
    cwd,
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  const lines = run.stdout.trim().split("\n");
  expect(lines).toEqual([
    "order 1 written with job 1 in one transaction",
    "rolled back (payment declined): 0 pen orders, 1 job in the table",
    "job ran: notified order 1",
    "notification sent for order 1",
    "job 1 status 1 (1 = success), attempts 1",
    "queue stopped",
  ]);
});

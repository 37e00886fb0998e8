import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "pq-quickstart-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// node:sqlite where this Node has it (the quick start's own choice there), better-sqlite3 everywhere.
const drivers = process.getBuiltinModule?.("node:sqlite")
  ? ["node:sqlite", "better-sqlite3"]
  : ["better-sqlite3"];

it.each(drivers)(
  "the quick start runs every behaviour to its expected outcome and exits 0, on %s",
  {
    timeout: 60_000,
  },
  async (driver) => {
    const main = fileURLToPath(new URL("./main.mjs", import.meta.url));
    const { stdout } = await promisify(execFile)("node", [main], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      env: {
        ...process.env,
        PQ_QUICKSTART_DB: join(dir, `${driver.replace(":", "-")}.sqlite`),
        PQ_QUICKSTART_DRIVER: driver,
      },
    });
    expect(stdout).toContain(`(through ${driver}): schema version`);
    expect(stdout).toMatch(/flaky-payment #\d+: charged on attempt 3/);
    expect(stdout).toMatch(/poll-settlement #\d+: settled after 4 polls/);
    expect(stdout).toMatch(/bad-address #\d+: FAILED for good: mailbox does not exist/);
    expect(stdout).toMatch(/gave up after 3 attempts: Error: mailbox does not exist/);
    expect(stdout).toMatch(/plain-sql@example.com/);
    const reminder = /reminder #\d+: ran (\d+) ms after/.exec(stdout);
    expect(Number(reminder?.[1])).toBeGreaterThanOrEqual(1500);
    expect(stdout).toMatch(/Outcomes, as stored in async_job_tab/);
  },
);

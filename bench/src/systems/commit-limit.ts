/**
 * The server's commit limit, the yardstick of one-by-one enqueue (scenario A):
 * 16 clients each committing a one-row INSERT as fast as the server lets them,
 * measured by the server's own load tool (pgbench; mariadb-slap), not from Node.
 * A queue's enqueue is one such commit plus its own work, so its rate over this
 * one says what the queue adds on top of the database.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TargetSpec } from "../servers.js";
import type { SystemInfo } from "./types.js";

const run = promisify(execFile);
const CLIENTS = 16;
const SECONDS = 5;
const TABLE = "commit_probe";

/** One-row INSERTs per second with 16 clients on the database of `spec`. */
export async function commitLimit(spec: TargetSpec): Promise<number> {
  if (spec.kind === "postgres") {
    const { Client } = (await import("pg")).default;
    const c = new Client({ connectionString: spec.url });
    await c.connect();
    await c.query(`CREATE TABLE ${TABLE} (id bigserial PRIMARY KEY, v integer NOT NULL)`);
    await c.end();
    const dir = mkdtempSync(join(tmpdir(), "pq-bench-pgbench-"));
    try {
      const script = join(dir, "insert.sql");
      writeFileSync(script, `INSERT INTO ${TABLE} (v) VALUES (1);\n`);
      const { stdout } = await run("pgbench", [
        "-n",
        "-c",
        String(CLIENTS),
        "-j",
        "2",
        "-T",
        String(SECONDS),
        "-f",
        script,
        spec.url,
      ]);
      const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1];
      if (!tps) throw new Error(`pgbench printed no tps:\n${stdout}`);
      return Number(tps);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (spec.kind === "mariadb") {
    const mysql = (await import("mysql2/promise")).default;
    const c = await mysql.createConnection(spec.url);
    await c.query(
      `CREATE TABLE ${TABLE} (id bigint AUTO_INCREMENT PRIMARY KEY, v integer NOT NULL) ENGINE=InnoDB`,
    );
    await c.end();
    const url = new URL(spec.url);
    const queries = 40_000;
    const { stdout } = await run("mariadb-slap", [
      `--host=${url.hostname}`,
      `--port=${url.port}`,
      `--user=${decodeURIComponent(url.username)}`,
      ...(url.password ? [`--password=${decodeURIComponent(url.password)}`] : []),
      `--create-schema=${url.pathname.slice(1)}`,
      "--no-drop",
      `--concurrency=${CLIENTS}`,
      "--iterations=1",
      `--number-of-queries=${queries}`,
      `--query=INSERT INTO ${TABLE} (v) VALUES (1)`,
    ]);
    const seconds = /Average number of seconds to run all queries: ([\d.]+) seconds/.exec(
      stdout,
    )?.[1];
    if (!seconds) throw new Error(`mariadb-slap printed no time:\n${stdout}`);
    return queries / Number(seconds);
  }
  throw new Error(`no commit limit for ${spec.kind}`);
}

const reference = (target: "postgres" | "mariadb", label: string, tool: string): SystemInfo => ({
  id: `commit-limit-${target}`,
  label: `commit limit (${label})`,
  target,
  version: "–",
  settings: `${tool}: ${CLIENTS} clients, each committing a one-row INSERT (autocommit) into a table with a bigint key, for ${target === "postgres" ? `${SECONDS} s` : "40,000 statements"}; the server's own load tool, no Node in the loop. Scenario A (one by one) only: the yardstick of one-by-one enqueue`,
  make: () => {
    throw new Error("the commit limit is measured by commitLimit(), not driven as a queue");
  },
  scenarios: ["A"],
});

export const commitLimits: SystemInfo[] = [
  reference("postgres", "PostgreSQL", "pgbench"),
  reference("mariadb", "MariaDB", "mariadb-slap"),
];

// vitest globalSetup: one MariaDB and one PostgreSQL for the whole run (the
// ones PQ_MYSQL_URL / PQ_PG_URL name, else throwaway ones), handed to tests
// through inject("pqMysqlUrl") etc. Each test file makes its own database on
// them with createDatabase(). A server that cannot be had fails the run.
// PostgreSQL 18 is not started here: the files that run on it start it
// (usePostgres18(), PQ_PG18_URL), so runs without them do not pay for it.
import type { TestProject } from "vitest/node";
import { mariadbFromEnvOrStart, postgresFromEnvOrStart } from "./env.js";
import type { DatabaseServer } from "./servers.js";

declare module "vitest" {
  export interface ProvidedContext {
    pqMysqlUrl: string;
    pqPgUrl: string;
    pqMysqlVersion: string;
    pqPgVersion: string;
  }
}

/** "MariaDB 10.11.6 on 127.0.0.1:PORT (started by testkit)" */
function describe(server: DatabaseServer, variable: string): string {
  const version =
    server.kind === "mariadb"
      ? `MariaDB ${server.version.split("-")[0]}`
      : (/^PostgreSQL \S+/.exec(server.version)?.[0] ?? server.version);
  const origin = server.owned ? "started by testkit" : `from ${variable}`;
  return `${version} on ${server.host}:${server.port} (${origin})`;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const before = { PQ_MYSQL_URL: process.env.PQ_MYSQL_URL, PQ_PG_URL: process.env.PQ_PG_URL };
  const [mariadb, postgres] = await Promise.allSettled([
    mariadbFromEnvOrStart(),
    postgresFromEnvOrStart(),
  ]);
  if (mariadb.status === "rejected" || postgres.status === "rejected") {
    // Stop the one that did start, then fail the run with every reason.
    const started = [mariadb, postgres].flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    await Promise.all(started.map((s) => s.stop()));
    const reasons = [mariadb, postgres].flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    if (reasons.length === 1) throw reasons[0];
    throw new AggregateError(
      reasons,
      reasons.map((r) => (r instanceof Error ? r.message : String(r))).join("\n\n"),
    );
  }
  const my = mariadb.value;
  const pg = postgres.value;

  project.provide("pqMysqlUrl", my.url);
  project.provide("pqPgUrl", pg.url);
  project.provide("pqMysqlVersion", my.version);
  project.provide("pqPgVersion", pg.version);
  // Child processes (test workers, spawned examples) find the same servers.
  process.env.PQ_MYSQL_URL = my.url;
  process.env.PQ_PG_URL = pg.url;
  console.log(describe(my, "PQ_MYSQL_URL"));
  console.log(describe(pg, "PQ_PG_URL"));

  return async () => {
    await Promise.all([my.stop(), pg.stop()]); // no-ops for servers from the environment
    for (const [key, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

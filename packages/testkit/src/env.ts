// A database server for the tests: the one PQ_MYSQL_URL / PQ_PG_URL points
// at, if set (e.g. a developer's own server, or the one global-setup started
// for this run, inherited by the test workers), else a throwaway one.
import { setTimeout as sleep } from "node:timers/promises";
import { mysqlVersion, pgVersion, redact } from "./internal/probes.js";
import { type DatabaseServer, type ServerKind, startMariaDB, startPostgres } from "./servers.js";

/** The server at PQ_MYSQL_URL (owned=false) if set, else a new throwaway MariaDB. */
export function mariadbFromEnvOrStart(): Promise<DatabaseServer> {
  const url = process.env.PQ_MYSQL_URL?.trim();
  return url ? externalServer("mariadb", "PQ_MYSQL_URL", url) : startMariaDB();
}

/** The server at PQ_PG_URL (owned=false) if set, else a new throwaway PostgreSQL. */
export function postgresFromEnvOrStart(): Promise<DatabaseServer> {
  const url = process.env.PQ_PG_URL?.trim();
  return url ? externalServer("postgres", "PQ_PG_URL", url) : startPostgres();
}

/**
 * PostgreSQL 18: the server at PQ_PG18_URL (owned=false) if set, else a new
 * throwaway one from the npm registry's binaries (startPostgres flavour
 * "npm-18"). Either way it must report major version 18, so a URL pointing
 * at another server cannot pass for it.
 */
export async function postgres18FromEnvOrStart(): Promise<DatabaseServer> {
  const url = process.env.PQ_PG18_URL?.trim();
  const server = url
    ? await externalServer("postgres", "PQ_PG18_URL", url)
    : await startPostgres({ flavour: "npm-18" });
  if (!/^PostgreSQL 18\./.test(server.version)) {
    await server.stop();
    throw new Error(
      `${url ? "PQ_PG18_URL" : "testkit"}: expected PostgreSQL 18, got ${server.version}`,
    );
  }
  return server;
}

const PROTOCOLS: Record<ServerKind, readonly string[]> = {
  mariadb: ["mysql:", "mariadb:"],
  postgres: ["postgres:", "postgresql:"],
};
const DEFAULT_PORTS: Record<ServerKind, number> = { mariadb: 3306, postgres: 5432 };

/**
 * Wraps a server someone else runs. It must answer within 10 s (a server that
 * CI just launched may still be starting); restart() rejects and stop() does
 * nothing, since it is not ours.
 */
async function externalServer(
  kind: ServerKind,
  variable: string,
  url: string,
): Promise<DatabaseServer> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${variable} is not a URL: ${redact(url)}`);
  }
  if (!PROTOCOLS[kind].includes(parsed.protocol)) {
    throw new Error(
      `${variable} must start with ${PROTOCOLS[kind].join("// or ")}//, got ${redact(url)}`,
    );
  }
  const probe = () => (kind === "mariadb" ? mysqlVersion(url) : pgVersion(url));
  const deadline = Date.now() + 10_000;
  let version: string | undefined;
  while (version === undefined) {
    try {
      version = await probe();
    } catch (error) {
      if (Date.now() >= deadline) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`${variable} (${redact(url)}) is not reachable: ${message}`);
      }
      await sleep(200);
    }
  }
  return {
    kind,
    url,
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : DEFAULT_PORTS[kind],
    version,
    owned: false,
    dataDir: undefined,
    restart: () =>
      Promise.reject(
        new Error(
          `cannot restart the server at ${variable}: testkit did not start it (tests that restart need an owned server)`,
        ),
      ),
    stop: async () => undefined, // not ours to stop
  };
}

// Fresh, isolated databases, so test files never share state.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RowDataPacket } from "mysql2/promise";
import { withMysql, withPg } from "./internal/probes.js";
import type { ServerKind } from "./servers.js";

export interface CreatedDatabase {
  /** The server URL (same credentials) with the new database as its path. */
  readonly url: string;
  readonly name: string;
  /** Drops the database; idempotent. */
  drop(): Promise<void>;
}

/** Creates a new empty database named pq_<8 hex> on the server. */
export async function createDatabase(server: {
  kind: ServerKind;
  url: string;
}): Promise<CreatedDatabase> {
  // Only [a-z0-9_]: safe to splice into SQL, and valid unquoted on both servers.
  const name = `pq_${randomBytes(4).toString("hex")}`;
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  const adminUrl = server.url;

  if (server.kind === "mariadb") {
    await withMysql(adminUrl, (conn) =>
      conn.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`),
    );
  } else {
    await withPg(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  }

  let dropping: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    drop() {
      dropping ??=
        server.kind === "mariadb" ? dropMariaDB(adminUrl, name) : dropPostgres(adminUrl, name);
      return dropping;
    },
  };
}

/**
 * Kills connections still using the database first: a leaked connection
 * holding a lock inside a transaction would otherwise make DROP wait for it.
 */
async function dropMariaDB(adminUrl: string, name: string): Promise<void> {
  await withMysql(adminUrl, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>(
      "SELECT id FROM information_schema.PROCESSLIST WHERE db = ? AND id <> CONNECTION_ID()",
      [name],
    );
    for (const row of rows) await conn.query(`KILL ${Number(row.id)}`).catch(() => undefined);
    await conn.query(`DROP DATABASE IF EXISTS ${name}`);
  });
}

/** WITH (FORCE) (PostgreSQL 13+) ends sessions still connected, which would otherwise block the drop. */
async function dropPostgres(adminUrl: string, name: string): Promise<void> {
  await withPg(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** A path for a new SQLite file in a fresh temp dir (the file is not created); cleanup() removes the dir. */
export async function createSqliteFile(): Promise<{ path: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "pq-sqlite-"));
  return {
    path: join(dir, "queue.sqlite"),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

// One real connection and one query: the readiness check, and how we learn a server's version.

import type { RowDataPacket } from "mysql2/promise";
import mysql from "mysql2/promise";
import pg from "pg";

const CONNECT_TIMEOUT_MS = 2_000;

/** Opens a mysql2 connection, runs `fn`, and always closes the connection. */
export async function withMysql<T>(
  options: string | mysql.ConnectionOptions,
  fn: (conn: mysql.Connection) => Promise<T>,
): Promise<T> {
  const opts = typeof options === "string" ? { uri: options } : options;
  const conn = await mysql.createConnection({ connectTimeout: CONNECT_TIMEOUT_MS, ...opts });
  try {
    return await fn(conn);
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

/** Opens a pg client, runs `fn`, and always closes the client. */
export async function withPg<T>(
  connectionString: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on("error", () => undefined); // e.g. the server shutting down under an idle client
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `SELECT VERSION()` over a fresh connection, e.g. "10.11.6-MariaDB-0+deb12u1". */
export function mysqlVersion(options: string | mysql.ConnectionOptions): Promise<string> {
  return withMysql(options, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>("SELECT VERSION() AS v");
    return String(rows[0]?.v);
  });
}

/** `SELECT version()` over a fresh connection, e.g. "PostgreSQL 15.18 (Debian …) on x86_64-pc-linux-gnu, …". */
export function pgVersion(connectionString: string): Promise<string> {
  return withPg(connectionString, async (client) => {
    const result = await client.query<{ v: string }>("SELECT version() AS v");
    return String(result.rows[0]?.v);
  });
}

/** True for MySQL/MariaDB "access denied" / "host not allowed" errors (as opposed to "not up yet"). */
export function isAccessDenied(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ER_ACCESS_DENIED_ERROR" || code === "ER_HOST_NOT_PRIVILEGED";
}

/** The URL with any password replaced by "***", for error messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}

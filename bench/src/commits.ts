/**
 * Write transactions committed on the database server over a measured stretch,
 * for every system on the same server (peers included), read from the server's
 * own counters: PostgreSQL's transaction ids (only a transaction that writes
 * takes one; reading `pg_current_xact_id()` takes one more), MariaDB's InnoDB
 * metric `trx_rw_commits` (read-write transactions; enabled here). Every commit
 * of a write waits for the log to reach the disk (group commit may share one
 * flush), which is what one-by-one statements cost a durable queue.
 */
import mysql from "mysql2/promise";
import pg from "pg";
import type { TargetSpec } from "./servers.js";

export interface CommitMark {
  /** Write transactions committed since the mark (the server's, not only this system's). */
  since(): Promise<number>;
}

async function onPostgres(url: string): Promise<CommitMark> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const xid = async () =>
    Number(
      (await client.query<{ x: string }>("SELECT pg_current_xact_id()::text AS x")).rows[0]?.x,
    );
  const start = await xid();
  return {
    async since() {
      try {
        return (await xid()) - start - 1;
      } finally {
        await client.end();
      }
    },
  };
}

async function onMariaDb(url: string): Promise<CommitMark> {
  const conn = await mysql.createConnection(url);
  await conn.query("SET GLOBAL innodb_monitor_enable = 'trx_rw_commits'");
  const count = async () => {
    const [rows] = await conn.query(
      "SELECT `COUNT` AS n FROM information_schema.INNODB_METRICS WHERE NAME = 'trx_rw_commits'",
    );
    return Number((rows as { n: number | string }[])[0]?.n);
  };
  const start = await count();
  return {
    async since() {
      try {
        return (await count()) - start;
      } finally {
        await conn.end();
      }
    },
  };
}

/** A mark on `spec`'s server, or undefined where there is no such counter (SQLite, Redis). */
export function commitMark(spec: TargetSpec): Promise<CommitMark> | undefined {
  if (spec.kind === "postgres") return onPostgres(spec.url);
  if (spec.kind === "mariadb") return onMariaDb(spec.url);
  return undefined;
}

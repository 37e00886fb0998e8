import type { Row, SqlValue } from "@persistent-queue/core";

// How each driver Sequelize can use runs one statement, and how its results
// are normalised to the queue's shapes. Drivers are typed structurally: this
// package never imports one.

/** What a driver reported for one statement, before it becomes an ExecResult or rows. */
export interface Outcome {
  readonly rows: Row[];
  readonly affectedRows: number;
  readonly insertId?: number | bigint | string | undefined;
}
export type Driver = "mysql2" | "mariadb" | "pg" | "sqlite3";
/** Runs one statement on a driver connection Sequelize handed out. */
export type Runner = (
  conn: object,
  sql: string,
  params: readonly SqlValue[],
  wantRows: boolean,
) => Promise<Outcome>;

/** The subset of a node-postgres `Client` used here. */
export interface PgClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Row[]; rowCount: number | null }>;
  on(event: string, listener: (...args: never[]) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
}
/** The subset of a callback-style mysql2 `Connection` used here. */
interface Mysql2Connection {
  query(sql: string, values: unknown[], cb: (err: Error | null, result: unknown) => void): unknown;
}
/** The subset of a mariadb `Connection` (promise API) used here. */
interface MariadbConnection {
  query(sql: string, values: unknown[]): Promise<unknown>;
}
/** The subset of a sqlite3 `Database` used here. */
export interface Sqlite3Database {
  configure(option: "busyTimeout", value: number): void;
  run(
    sql: string,
    params: unknown[],
    cb: (this: { changes: number; lastID: number }, err: Error | null) => void,
  ): unknown;
  all(sql: string, params: unknown[], cb: (err: Error | null, rows: Row[]) => void): unknown;
}

export const RUNNERS: Record<Driver, Runner> = {
  mysql2: (conn, sql, params) =>
    new Promise((resolve, reject) => {
      (conn as Mysql2Connection).query(sql, [...params], (err, result) => {
        if (err) return reject(err);
        if (Array.isArray(result)) return resolve({ rows: normaliseRows(result), affectedRows: 0 });
        const header = result as { affectedRows?: number; insertId?: number; info?: string };
        // Sequelize connects with -FOUND_ROWS, so affectedRows counts changed rows;
        // the server's info text of an UPDATE still says how many rows matched.
        const matched = /Rows matched:\s*(\d+)/.exec(header.info ?? "")?.[1];
        resolve({
          rows: [],
          affectedRows: matched === undefined ? Number(header.affectedRows ?? 0) : Number(matched),
          insertId: header.insertId ? header.insertId : undefined,
        });
      });
    }),
  mariadb: async (conn, sql, params) => {
    const result = await (conn as MariadbConnection).query(sql, [...params]);
    if (Array.isArray(result)) return { rows: normaliseRows(result), affectedRows: 0 };
    const ok = result as { affectedRows?: number | bigint; insertId?: number | bigint };
    return {
      rows: [],
      affectedRows: Number(ok.affectedRows ?? 0),
      insertId: ok.insertId ? toNumberOrString(ok.insertId) : undefined,
    };
  },
  pg: async (conn, sql, params) => {
    const result = await (conn as PgClient).query(sql, params as unknown[]);
    return { rows: result.rows, affectedRows: result.rowCount ?? 0 };
  },
  // query() → all(), exec() → run(): sqlite3 runs any statement either way, and only run() reports changes.
  sqlite3: (conn, sql, params, wantRows) => {
    const db = conn as Sqlite3Database;
    const values = params.map(sqliteValue);
    if (wantRows) {
      return new Promise((resolve, reject) => {
        db.all(sql, values, (err, rows) =>
          err ? reject(err) : resolve({ rows, affectedRows: rows.length }),
        );
      });
    }
    return new Promise((resolve, reject) => {
      db.run(sql, values, function (err) {
        if (err) return reject(err);
        // lastID is the connection's last insert: only meaningful after an INSERT that added a row.
        const inserted = this.changes > 0 && /^\s*(insert|replace)\b/i.test(sql);
        resolve({
          rows: [],
          affectedRows: this.changes,
          insertId: inserted ? this.lastID : undefined,
        });
      });
    });
  },
};

/** BigInt (mariadb COUNT(*), BIGINT) → number when exact, else its decimal string. */
function toNumberOrString(v: number | bigint): number | string {
  if (typeof v === "number") return v;
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(v)
    : v.toString();
}

function normaliseRows(rows: unknown[]): Row[] {
  return (rows as Row[]).map((row) => {
    let copy: Row | undefined;
    for (const key in row) {
      const v = row[key];
      if (typeof v === "bigint") {
        copy ??= { ...row };
        copy[key] = toNumberOrString(v);
      }
    }
    return copy ?? row;
  });
}

/**
 * sqlite3 binds a Date as float milliseconds and a bigint as NULL. Dates become
 * UTC text `YYYY-MM-DD HH:MM:SS.SSS`, what SQLite's date functions produce and
 * compare with; bigints become numbers when exact, else decimal text (SQLite's
 * INTEGER affinity stores that text as an integer).
 */
function sqliteValue(v: SqlValue): unknown {
  if (v instanceof Date) return v.toISOString().replace("T", " ").replace("Z", "");
  if (typeof v === "bigint") return toNumberOrString(v);
  return v;
}

import type { Row } from "@persistent-queue/core";
import { mysqlOutcome, type Outcome } from "@persistent-queue/core/adapter";

// How each driver Sequelize can use runs one statement. Results are shaped by
// core's adapter kit (defineDb): these only say what the driver reported.
// Drivers are typed structurally: this package never imports one.

export type Driver = "mysql2" | "mariadb" | "pg" | "sqlite3";
/** Runs one statement, with parameters already bound, on a driver connection Sequelize handed out. */
export type Runner = (
  conn: object,
  sql: string,
  params: unknown[],
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
  // Sequelize connects with -FOUND_ROWS; mysqlOutcome reads the matched count from the server's info text.
  mysql2: (conn, sql, params) =>
    new Promise((resolve, reject) => {
      (conn as Mysql2Connection).query(sql, params, (err, result) =>
        err ? reject(err) : resolve(mysqlOutcome(result)),
      );
    }),
  mariadb: async (conn, sql, params) =>
    mysqlOutcome(await (conn as MariadbConnection).query(sql, params)),
  pg: async (conn, sql, params) => {
    const result = await (conn as PgClient).query(sql, params);
    return { rows: result.rows, affectedRows: result.rowCount ?? 0 };
  },
  // query() → all(), exec() → run(): sqlite3 runs any statement either way, and only run() reports changes.
  sqlite3: (conn, sql, params, wantRows) =>
    new Promise((resolve, reject) => {
      const db = conn as Sqlite3Database;
      if (wantRows) db.all(sql, params, (err, rows) => (err ? reject(err) : resolve({ rows })));
      else {
        db.run(sql, params, function (err) {
          if (err) reject(err);
          else resolve({ affectedRows: this.changes, insertId: this.lastID });
        });
      }
    }),
};

import type { DB, DialectFamily, ExecResult, Row, SqlValue } from "../db.js";
import { type BindOptions, bindParams, insertIdOf, normaliseRows } from "./values.js";

/**
 * What a driver reported for one statement, before it is shaped as an
 * {@link ExecResult} or rows. Leave out what the driver does not say.
 */
export interface Outcome {
  /** The rows, when the statement returned any. */
  readonly rows?: readonly unknown[] | undefined;
  /** Rows matched; left out, the number of `rows` (0 without rows). */
  readonly affectedRows?: number | undefined;
  /** The driver's last generated id, raw: {@link insertIdOf} decides if it counts. */
  readonly insertId?: unknown;
}

/**
 * Runs one statement. `params` are already bound (see {@link bindParams});
 * `wantRows` says whether the caller reads rows (`query`) or a count (`exec`),
 * for drivers that run the two differently.
 */
export type RunStatement = (sql: string, params: unknown[], wantRows: boolean) => Promise<Outcome>;

/** The parts an adapter supplies to {@link defineDb}. */
export interface DbParts extends BindOptions {
  readonly dialect: DialectFamily;
  readonly run: RunStatement;
  /** A synchronous `run`, for synchronous drivers: gives the DB `execSync`/`querySync`. */
  readonly runSync?: ((sql: string, params: unknown[], wantRows: boolean) => Outcome) | undefined;
  /** Left out: `SELECT 1` through `run`. */
  readonly ping?: (() => Promise<void>) | undefined;
  /** Left out: `close()` does nothing, as for a DB bound to a transaction someone else owns. */
  readonly close?: (() => Promise<unknown>) | undefined;
  readonly transaction?: DB["transaction"] | undefined;
  readonly listen?: DB["listen"] | undefined;
}

const execResult = (sql: string, outcome: Outcome): ExecResult => {
  const affectedRows = outcome.affectedRows ?? outcome.rows?.length ?? 0;
  return { affectedRows, insertId: insertIdOf(sql, affectedRows, outcome.insertId) };
};

/**
 * Builds a {@link DB} from one statement runner, so that every adapter shapes
 * results the same way: parameters bound by {@link bindParams}, rows
 * normalised by {@link normaliseRows} (the one bigint rule), `affectedRows`
 * and `insertId` by {@link insertIdOf}. The adapter keeps only what is its
 * own: how to reach the driver, open a transaction, close, listen.
 */
export function defineDb(parts: DbParts): DB {
  const { dialect, run, runSync } = parts;
  const bind = (params: readonly SqlValue[]) => bindParams(params, dialect, parts);
  const db: DB = {
    dialect,
    exec: async (sql, params = []) => execResult(sql, await run(sql, bind(params), false)),
    query: async <T extends Row = Row>(sql: string, params: readonly SqlValue[] = []) =>
      normaliseRows<T>((await run(sql, bind(params), true)).rows ?? []),
    ping: parts.ping ?? (async () => void (await run("SELECT 1", [], true))),
    close: async () => void (await parts.close?.()),
  };
  if (runSync) {
    db.execSync = (sql, params = []) => execResult(sql, runSync(sql, bind(params), false));
    db.querySync = <T extends Row = Row>(sql: string, params: readonly SqlValue[] = []) =>
      normaliseRows<T>(runSync(sql, bind(params), true).rows ?? []);
  }
  if (parts.transaction) db.transaction = parts.transaction;
  if (parts.listen) db.listen = parts.listen;
  return db;
}

/** The three steps of a transaction on one connection, and how to hand the connection back. */
export interface TransactionSteps {
  begin(): unknown;
  commit(): unknown;
  rollback(): unknown;
  /** Called once, after COMMIT or ROLLBACK (also when BEGIN failed). */
  release?(): unknown;
}

/**
 * BEGIN, `fn`, COMMIT; ROLLBACK when `fn` (or COMMIT) throws, and the original
 * error is rethrown: a failed ROLLBACK (the server may already have rolled
 * back, as SQLite does on SQLITE_FULL) matters less. The connection is
 * released whatever happens.
 */
export async function runTransaction<T>(steps: TransactionSteps, fn: () => Promise<T>): Promise<T> {
  try {
    await steps.begin();
    try {
      const result = await fn();
      await steps.commit();
      return result;
    } catch (err) {
      try {
        await steps.rollback();
      } catch {
        // The original error matters more.
      }
      throw err;
    }
  } finally {
    await steps.release?.();
  }
}

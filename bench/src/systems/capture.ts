/**
 * A DB wrapper that forwards every call to the adapter and counts (and, when
 * asked, records) the statements our queue sends. It is how the bench counts
 * statements per job and gets the real claim statement to EXPLAIN, without
 * copying any SQL out of @persistent-queue/core.
 */
import { performance } from "node:perf_hooks";
import type { DB, Row, SqlValue } from "@persistent-queue/core";

export interface Captured {
  sql: string;
  params: readonly SqlValue[];
}

export class StatementLog {
  count = 0;
  recording = false;
  readonly statements: Captured[] = [];
  /** Calls and wall time per statement (keyed by its first 70 characters): the profile behind a slow drain. */
  readonly profile = new Map<string, { calls: number; ms: number }>();
  note(sql: string, params: readonly SqlValue[] | undefined): void {
    this.count++;
    if (this.recording) this.statements.push({ sql, params: params ?? [] });
  }
  timed<T>(sql: string, run: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const key = sql.replace(/\s+/g, " ").trim().slice(0, 70);
    return run().finally(() => {
      const e = this.profile.get(key) ?? { calls: 0, ms: 0 };
      e.calls++;
      e.ms += performance.now() - t0;
      this.profile.set(key, e);
    });
  }
  /** The statements that took the most wall time, as printable lines. */
  top(n = 5): string[] {
    return [...this.profile]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, n)
      .map(([k, v]) => `${v.calls} calls, ${Math.round(v.ms)} ms: ${k}`);
  }
}

export function capturing(db: DB, log: StatementLog): DB {
  const wrapped: DB = {
    dialect: db.dialect,
    exec: (sql, params) => {
      log.note(sql, params);
      return log.timed(sql, () => db.exec(sql, params));
    },
    query: <T extends Row = Row>(sql: string, params?: readonly SqlValue[]) => {
      log.note(sql, params);
      return log.timed(sql, () => db.query<T>(sql, params));
    },
    ping: () => db.ping(),
    close: () => db.close(),
  };
  const inner = db;
  if (inner.transaction) {
    const tx = inner.transaction.bind(inner);
    wrapped.transaction = <T>(fn: (t: DB) => Promise<T>) => tx((t) => fn(capturing(t, log)));
  }
  if (inner.listen) wrapped.listen = inner.listen.bind(inner);
  if (inner.execSync) {
    const execSync = inner.execSync.bind(inner);
    wrapped.execSync = (sql, params) => {
      log.note(sql, params);
      return execSync(sql, params);
    };
  }
  if (inner.querySync) {
    const querySync = inner.querySync.bind(inner);
    wrapped.querySync = <T extends Row = Row>(sql: string, params?: readonly SqlValue[]) => {
      log.note(sql, params);
      return querySync<T>(sql, params);
    };
  }
  return wrapped;
}

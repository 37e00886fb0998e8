// Drizzle table definitions of the queue's tables, equivalent to core's
// migrations (version 2), so drizzle-kit sees them and does not try to drop
// them. drizzle-orm is loaded when a factory is first called, not when the
// package is imported: it is an optional peer, and `fromDrizzle` alone needs
// nothing from it. A table definition is a Drizzle object, so the factories
// cannot avoid loading it; they use the drizzle-orm your app resolves.
import { createRequire } from "node:module";
import type * as Drizzle from "drizzle-orm";
import type * as MysqlCore from "drizzle-orm/mysql-core";
import type * as PgCore from "drizzle-orm/pg-core";
import type * as SqliteCore from "drizzle-orm/sqlite-core";

const load = <T>(id: string): T => createRequire(import.meta.url)(id) as T;

/** Table names, as in core's `tables` option. */
export interface DrizzleQueueTableNames {
  /** The job table. Default `async_job_tab`. */
  readonly jobs?: string;
  /** The ShedLock table. Default `shedlock_tab`. */
  readonly locks?: string;
}

const names = (t: DrizzleQueueTableNames) => ({
  jobs: t.jobs ?? "async_job_tab",
  locks: t.locks ?? "shedlock_tab",
});

/**
 * The queue's tables for MySQL/MariaDB (`mysqlTable`). Not expressible in
 * Drizzle: column comments, the table's ENGINE and CHARSET/COLLATE
 * (core creates utf8mb4 / utf8mb4_unicode_ci; Drizzle uses the database default).
 */
export function mysqlQueueTables(
  tables: DrizzleQueueTableNames = {},
): ReturnType<typeof defineMysql> {
  return defineMysql(load("drizzle-orm/mysql-core"), load("drizzle-orm"), names(tables));
}
function defineMysql(
  m: typeof MysqlCore,
  { sql }: typeof Drizzle,
  n: Required<DrizzleQueueTableNames>,
) {
  const jobs = m.mysqlTable(
    n.jobs,
    {
      id: m.bigint("id", { mode: "number", unsigned: true }).autoincrement().primaryKey(),
      params: m.varchar("params", { length: 4096 }).notNull().default(""),
      jobType: m.int("job_type").notNull(),
      jobStatus: m.tinyint("job_status").default(0),
      startTime: m.int("start_time", { unsigned: true }).default(0),
      createTime: m.int("create_time", { unsigned: true }).notNull(),
      updateTime: m.int("update_time", { unsigned: true }).notNull(),
      attempts: m.int("attempts").notNull().default(0),
      runAt: m.bigint("run_at", { mode: "number" }).notNull().default(0),
      leaseToken: m.varchar("lease_token", { length: 64 }).default(sql`NULL`),
      leaseUntil: m.bigint("lease_until", { mode: "number" }).notNull().default(0),
      workerId: m.varchar("worker_id", { length: 255 }).default(sql`NULL`),
      lastError: m.varchar("last_error", { length: 2048 }).default(sql`NULL`),
    },
    (t) => [m.index(`${n.jobs}_claim_idx`).on(t.jobStatus, t.jobType, t.id)],
  );
  const locks = m.mysqlTable(n.locks, {
    lockName: m.varchar("lock_name", { length: 64 }).primaryKey(),
    lockUntil: m.timestamp("lock_until").notNull().defaultNow().onUpdateNow(),
    lockedAt: m.timestamp("locked_at").notNull().defaultNow(),
    lockedBy: m.varchar("locked_by", { length: 255 }).notNull(),
  });
  return { jobs, locks };
}

/** The queue's tables for PostgreSQL (`pgTable`), column for column as core creates them. */
export function pgQueueTables(tables: DrizzleQueueTableNames = {}): ReturnType<typeof definePg> {
  return definePg(load("drizzle-orm/pg-core"), load("drizzle-orm"), names(tables));
}
function definePg(p: typeof PgCore, { sql }: typeof Drizzle, n: Required<DrizzleQueueTableNames>) {
  const jobs = p.pgTable(
    n.jobs,
    {
      id: p.bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
      params: p.varchar("params", { length: 4096 }).notNull().default(""),
      jobType: p.integer("job_type").notNull(),
      jobStatus: p.smallint("job_status").default(0),
      startTime: p.bigint("start_time", { mode: "number" }).default(0),
      createTime: p.bigint("create_time", { mode: "number" }).notNull(),
      updateTime: p.bigint("update_time", { mode: "number" }).notNull(),
      attempts: p.integer("attempts").notNull().default(0),
      runAt: p.bigint("run_at", { mode: "number" }).notNull().default(0),
      leaseToken: p.varchar("lease_token", { length: 64 }).default(sql`NULL`),
      leaseUntil: p.bigint("lease_until", { mode: "number" }).notNull().default(0),
      workerId: p.varchar("worker_id", { length: 255 }).default(sql`NULL`),
      lastError: p.varchar("last_error", { length: 2048 }).default(sql`NULL`),
    },
    (t) => [p.index(`${n.jobs}_claim_idx`).on(t.jobStatus, t.jobType, t.id)],
  );
  const locks = p.pgTable(n.locks, {
    lockName: p.varchar("lock_name", { length: 64 }).primaryKey(),
    lockUntil: p
      .timestamp("lock_until", { withTimezone: true, precision: 3 })
      .notNull()
      .defaultNow(),
    lockedAt: p.timestamp("locked_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    lockedBy: p.varchar("locked_by", { length: 255 }).notNull(),
  });
  return { jobs, locks };
}

/** The queue's tables for SQLite (`sqliteTable`), column for column as core creates them. */
export function sqliteQueueTables(
  tables: DrizzleQueueTableNames = {},
): ReturnType<typeof defineSqlite> {
  return defineSqlite(load("drizzle-orm/sqlite-core"), load("drizzle-orm"), names(tables));
}
function defineSqlite(
  l: typeof SqliteCore,
  { sql }: typeof Drizzle,
  n: Required<DrizzleQueueTableNames>,
) {
  /** UTC text 'YYYY-MM-DD HH:MM:SS.SSS', as core's SQLite lock table stores times. */
  const now = sql`(strftime('%Y-%m-%d %H:%M:%f', 'now'))`;
  const jobs = l.sqliteTable(
    n.jobs,
    {
      // AUTOINCREMENT, as core: ids are never reused after the newest rows are pruned.
      id: l.integer("id").primaryKey({ autoIncrement: true }),
      params: l.text("params").notNull().default(""),
      jobType: l.integer("job_type").notNull(),
      jobStatus: l.integer("job_status").default(0),
      startTime: l.integer("start_time").default(0),
      createTime: l.integer("create_time").notNull(),
      updateTime: l.integer("update_time").notNull(),
      attempts: l.integer("attempts").notNull().default(0),
      runAt: l.integer("run_at").notNull().default(0),
      leaseToken: l.text("lease_token").default(sql`NULL`),
      leaseUntil: l.integer("lease_until").notNull().default(0),
      workerId: l.text("worker_id").default(sql`NULL`),
      lastError: l.text("last_error").default(sql`NULL`),
    },
    (t) => [l.index(`${n.jobs}_claim_idx`).on(t.jobStatus, t.jobType, t.id)],
  );
  const locks = l.sqliteTable(n.locks, {
    lockName: l.text("lock_name").notNull().primaryKey(),
    lockUntil: l.text("lock_until").notNull().default(now),
    lockedAt: l.text("locked_at").notNull().default(now),
    lockedBy: l.text("locked_by").notNull(),
  });
  return { jobs, locks };
}

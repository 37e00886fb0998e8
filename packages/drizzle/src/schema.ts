// Drizzle table definitions of the queue's tables, equivalent to core's
// migrations (schema version 7), so drizzle-kit sees them and does not try to
// drop them. drizzle-orm is loaded when a factory is first called, not when the
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
  /** The schedules table (core's `tables.schedules`). Default `pq_schedules`. */
  readonly schedules?: string;
  /** The job-types table (core's `tables.jobTypes`). Default `pq_job_types`. */
  readonly jobTypes?: string;
  /** The job-groups table (core's `tables.jobGroups`). Default `pq_job_groups`. */
  readonly jobGroups?: string;
  /** The job-starts table (core's `tables.jobStarts`). Default `pq_job_starts`. */
  readonly jobStarts?: string;
  /** The job-stats table (core's `tables.jobStats`). Default `pq_job_stats`. */
  readonly jobStats?: string;
}

const names = (t: DrizzleQueueTableNames) => ({
  jobs: t.jobs ?? "async_job_tab",
  locks: t.locks ?? "shedlock_tab",
  schedules: t.schedules ?? "pq_schedules",
  jobTypes: t.jobTypes ?? "pq_job_types",
  jobGroups: t.jobGroups ?? "pq_job_groups",
  jobStarts: t.jobStarts ?? "pq_job_starts",
  jobStats: t.jobStats ?? "pq_job_stats",
});

/** Job statuses a unique key holds in (init, continue, retry, running): core's unique index. */
const LIVE_STATUSES = "0, 3, 4, 5";

/**
 * The queue's tables for MySQL/MariaDB (`mysqlTable`). MariaDB has no expression
 * or partial index, so the due-time and unique-key indexes are on VIRTUAL generated
 * columns (`due_ms`, `unique_live`), as core makes them. Not expressible in
 * Drizzle: INVISIBLE (run core's `migrate()` after drizzle-kit's migration: it
 * hides every column the queue added, so the Go library's `SELECT *` still sees
 * 7 columns), column comments, the table's ENGINE and CHARSET/COLLATE
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
      priority: m.int("priority").notNull().default(0),
      uniqueKey: m.varchar("unique_key", { length: 255 }).default(sql`NULL`),
      result: m.mediumtext("result").default(sql`NULL`),
      progress: m.mediumtext("progress").default(sql`NULL`),
      // The due time in epoch ms, and the unique key while the job is unfinished (NULL otherwise).
      dueMs: m
        .bigint("due_ms", { mode: "number" })
        .generatedAlwaysAs(sql`GREATEST(COALESCE(\`start_time\`, 0) * 1000, \`run_at\`)`, {
          mode: "virtual",
        }),
      uniqueLive: m
        .varchar("unique_live", { length: 255 })
        .generatedAlwaysAs(
          sql.raw(`CASE WHEN \`job_status\` IN (${LIVE_STATUSES}) THEN \`unique_key\` END`),
          { mode: "virtual" },
        ),
      // Version 5, after version 4's generated columns (core adds it later).
      groupKey: m.varchar("group_key", { length: 255 }).default(sql`NULL`),
      // Version 6: the enqueuing span's trace context (OpenTelemetry).
      traceContext: m.varchar("trace_context", { length: 255 }).default(sql`NULL`),
    },
    (t) => [
      m.index(`${n.jobs}_claim_idx`).on(t.jobStatus, t.jobType, t.id),
      m.index(`${n.jobs}_due_idx`).on(t.jobStatus, t.jobType, t.priority, t.dueMs, t.id),
      m.uniqueIndex(`${n.jobs}_unique_idx`).on(t.jobType, t.uniqueLive),
    ],
  );
  const schedules = m.mysqlTable(
    n.schedules,
    {
      scope: m.varchar("scope", { length: 64 }).notNull(),
      name: m.varchar("name", { length: 128 }).notNull(),
      cron: m.varchar("cron", { length: 128 }).notNull(),
      tz: m.varchar("tz", { length: 64 }).default(sql`NULL`),
      jobType: m.int("job_type").notNull(),
      params: m.text("params").notNull(),
      priority: m.int("priority").notNull().default(0),
      backfillMs: m.bigint("backfill_ms", { mode: "number" }).notNull().default(0),
      lastTickMs: m.bigint("last_tick_ms", { mode: "number" }).notNull().default(0),
      nextTickMs: m.bigint("next_tick_ms", { mode: "number" }).notNull().default(0),
      source: m.varchar("source", { length: 16 }).notNull(),
      updatedAt: m.bigint("updated_at", { mode: "number" }).notNull(),
    },
    (t) => [m.primaryKey({ columns: [t.scope, t.name] })],
  );
  const jobTypes = m.mysqlTable(
    n.jobTypes,
    {
      scope: m.varchar("scope", { length: 64 }).notNull(),
      jobType: m.int("job_type").notNull(),
      paused: m.int("paused").notNull().default(0),
      claimSeq: m.bigint("claim_seq", { mode: "number" }).notNull().default(0),
      backoffUntil: m.bigint("backoff_until", { mode: "number" }).notNull().default(0),
      updatedAt: m.bigint("updated_at", { mode: "number" }).notNull().default(0),
    },
    (t) => [m.primaryKey({ columns: [t.scope, t.jobType] })],
  );
  const jobGroups = m.mysqlTable(
    n.jobGroups,
    {
      scope: m.varchar("scope", { length: 64 }).notNull(),
      jobType: m.int("job_type").notNull(),
      groupKey: m.varchar("group_key", { length: 255 }).notNull(),
      backoffUntil: m.bigint("backoff_until", { mode: "number" }).notNull().default(0),
      updatedAt: m.bigint("updated_at", { mode: "number" }).notNull().default(0),
    },
    (t) => [m.primaryKey({ columns: [t.scope, t.jobType, t.groupKey] })],
  );
  const jobStarts = m.mysqlTable(
    n.jobStarts,
    {
      id: m.bigint("id", { mode: "number", unsigned: true }).autoincrement().primaryKey(),
      scope: m.varchar("scope", { length: 64 }).notNull(),
      jobType: m.int("job_type").notNull(),
      groupKey: m.varchar("group_key", { length: 255 }).default(sql`NULL`),
      startedMs: m.bigint("started_ms", { mode: "number" }).notNull(),
    },
    (t) => [
      m.index(`${n.jobStarts}_type_idx`).on(t.scope, t.jobType, t.startedMs),
      m.index(`${n.jobStarts}_group_idx`).on(t.scope, t.jobType, t.groupKey, t.startedMs),
    ],
  );
  const jobStats = m.mysqlTable(
    n.jobStats,
    {
      scope: m.varchar("scope", { length: 64 }).notNull(),
      jobType: m.int("job_type").notNull(),
      jobStatus: m.int("job_status").notNull(),
      minuteStart: m.bigint("minute_start", { mode: "number" }).notNull(),
      finished: m.bigint("finished", { mode: "number" }).notNull().default(0),
    },
    (t) => [m.primaryKey({ columns: [t.scope, t.jobType, t.jobStatus, t.minuteStart] })],
  );
  const locks = m.mysqlTable(n.locks, {
    lockName: m.varchar("lock_name", { length: 64 }).primaryKey(),
    lockUntil: m.timestamp("lock_until").notNull().defaultNow().onUpdateNow(),
    lockedAt: m.timestamp("locked_at").notNull().defaultNow(),
    lockedBy: m.varchar("locked_by", { length: 255 }).notNull(),
  });
  return { jobs, locks, schedules, jobTypes, jobGroups, jobStarts, jobStats };
}

/**
 * The queue's tables for PostgreSQL (`pgTable`), column for column and index for
 * index as core creates them: the due index on the due-time expression, the
 * unique-key index partial (unfinished jobs with a key only).
 */
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
      priority: p.integer("priority").notNull().default(0),
      uniqueKey: p.varchar("unique_key", { length: 255 }).default(sql`NULL`),
      result: p.text("result").default(sql`NULL`),
      progress: p.text("progress").default(sql`NULL`),
      groupKey: p.varchar("group_key", { length: 255 }).default(sql`NULL`),
      traceContext: p.varchar("trace_context", { length: 255 }).default(sql`NULL`),
    },
    (t) => [
      p.index(`${n.jobs}_claim_idx`).on(t.jobStatus, t.jobType, t.id),
      // The claim's ORDER BY spells this expression (core's dueMs hook), so the index serves it.
      p
        .index(`${n.jobs}_due_idx`)
        .on(
          t.jobStatus,
          t.jobType,
          t.priority,
          sql`(GREATEST(COALESCE(${t.startTime}, 0) * 1000, ${t.runAt}))`,
          t.id,
        ),
      // core's enqueue repeats this predicate in its ON CONFLICT target.
      p
        .uniqueIndex(`${n.jobs}_unique_idx`)
        .on(t.jobType, t.uniqueKey)
        .where(sql.raw(`"unique_key" IS NOT NULL AND "job_status" IN (${LIVE_STATUSES})`)),
    ],
  );
  const schedules = p.pgTable(
    n.schedules,
    {
      scope: p.varchar("scope", { length: 64 }).notNull(),
      name: p.varchar("name", { length: 128 }).notNull(),
      cron: p.varchar("cron", { length: 128 }).notNull(),
      tz: p.varchar("tz", { length: 64 }).default(sql`NULL`),
      jobType: p.integer("job_type").notNull(),
      params: p.text("params").notNull(),
      priority: p.integer("priority").notNull().default(0),
      backfillMs: p.bigint("backfill_ms", { mode: "number" }).notNull().default(0),
      lastTickMs: p.bigint("last_tick_ms", { mode: "number" }).notNull().default(0),
      nextTickMs: p.bigint("next_tick_ms", { mode: "number" }).notNull().default(0),
      source: p.varchar("source", { length: 16 }).notNull(),
      updatedAt: p.bigint("updated_at", { mode: "number" }).notNull(),
    },
    // PostgreSQL's own constraint name, as core's DDL gets it.
    (t) => [p.primaryKey({ name: `${n.schedules}_pkey`, columns: [t.scope, t.name] })],
  );
  const jobTypes = p.pgTable(
    n.jobTypes,
    {
      scope: p.varchar("scope", { length: 64 }).notNull(),
      jobType: p.integer("job_type").notNull(),
      paused: p.integer("paused").notNull().default(0),
      claimSeq: p.bigint("claim_seq", { mode: "number" }).notNull().default(0),
      backoffUntil: p.bigint("backoff_until", { mode: "number" }).notNull().default(0),
      updatedAt: p.bigint("updated_at", { mode: "number" }).notNull().default(0),
    },
    (t) => [p.primaryKey({ name: `${n.jobTypes}_pkey`, columns: [t.scope, t.jobType] })],
  );
  const jobGroups = p.pgTable(
    n.jobGroups,
    {
      scope: p.varchar("scope", { length: 64 }).notNull(),
      jobType: p.integer("job_type").notNull(),
      groupKey: p.varchar("group_key", { length: 255 }).notNull(),
      backoffUntil: p.bigint("backoff_until", { mode: "number" }).notNull().default(0),
      updatedAt: p.bigint("updated_at", { mode: "number" }).notNull().default(0),
    },
    (t) => [
      p.primaryKey({ name: `${n.jobGroups}_pkey`, columns: [t.scope, t.jobType, t.groupKey] }),
    ],
  );
  const jobStarts = p.pgTable(
    n.jobStarts,
    {
      id: p.bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
      scope: p.varchar("scope", { length: 64 }).notNull(),
      jobType: p.integer("job_type").notNull(),
      groupKey: p.varchar("group_key", { length: 255 }).default(sql`NULL`),
      startedMs: p.bigint("started_ms", { mode: "number" }).notNull(),
    },
    (t) => [
      p.index(`${n.jobStarts}_type_idx`).on(t.scope, t.jobType, t.startedMs),
      p.index(`${n.jobStarts}_group_idx`).on(t.scope, t.jobType, t.groupKey, t.startedMs),
    ],
  );
  const jobStats = p.pgTable(
    n.jobStats,
    {
      scope: p.varchar("scope", { length: 64 }).notNull(),
      jobType: p.integer("job_type").notNull(),
      jobStatus: p.integer("job_status").notNull(),
      minuteStart: p.bigint("minute_start", { mode: "number" }).notNull(),
      finished: p.bigint("finished", { mode: "number" }).notNull().default(0),
    },
    (t) => [
      p.primaryKey({
        name: `${n.jobStats}_pkey`,
        columns: [t.scope, t.jobType, t.jobStatus, t.minuteStart],
      }),
    ],
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
  return { jobs, locks, schedules, jobTypes, jobGroups, jobStarts, jobStats };
}

/**
 * The queue's tables for SQLite (`sqliteTable`), column for column as core
 * creates them, the unique-key index partial (unfinished jobs with a key only).
 * Not here: the due index on the due-time expression, which drizzle-kit cannot
 * write for SQLite yet; run core's `migrate()` after drizzle-kit's migration.
 */
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
      priority: l.integer("priority").notNull().default(0),
      uniqueKey: l.text("unique_key").default(sql`NULL`),
      result: l.text("result").default(sql`NULL`),
      progress: l.text("progress").default(sql`NULL`),
      groupKey: l.text("group_key").default(sql`NULL`),
      traceContext: l.text("trace_context").default(sql`NULL`),
    },
    (t) => [
      l.index(`${n.jobs}_claim_idx`).on(t.jobStatus, t.jobType, t.id),
      // No `<jobs>_due_idx` on (job_status, job_type, priority, (max(COALESCE(start_time, 0)
      // * 1000, run_at)), id) here: drizzle-kit 0.31 splits an SQLite index expression at its
      // commas and writes invalid SQL (drizzle-team/drizzle-orm#6062). core's migrate(), run
      // after drizzle-kit's migration, creates it.
      // core's enqueue repeats this predicate in its ON CONFLICT target.
      l
        .uniqueIndex(`${n.jobs}_unique_idx`)
        .on(t.jobType, t.uniqueKey)
        .where(sql.raw(`"unique_key" IS NOT NULL AND "job_status" IN (${LIVE_STATUSES})`)),
    ],
  );
  const schedules = l.sqliteTable(
    n.schedules,
    {
      scope: l.text("scope").notNull(),
      name: l.text("name").notNull(),
      cron: l.text("cron").notNull(),
      tz: l.text("tz").default(sql`NULL`),
      jobType: l.integer("job_type").notNull(),
      params: l.text("params").notNull(),
      priority: l.integer("priority").notNull().default(0),
      backfillMs: l.integer("backfill_ms").notNull().default(0),
      lastTickMs: l.integer("last_tick_ms").notNull().default(0),
      nextTickMs: l.integer("next_tick_ms").notNull().default(0),
      source: l.text("source").notNull(),
      updatedAt: l.integer("updated_at").notNull(),
    },
    (t) => [l.primaryKey({ columns: [t.scope, t.name] })],
  );
  const jobTypes = l.sqliteTable(
    n.jobTypes,
    {
      scope: l.text("scope").notNull(),
      jobType: l.integer("job_type").notNull(),
      paused: l.integer("paused").notNull().default(0),
      claimSeq: l.integer("claim_seq").notNull().default(0),
      backoffUntil: l.integer("backoff_until").notNull().default(0),
      updatedAt: l.integer("updated_at").notNull().default(0),
    },
    (t) => [l.primaryKey({ columns: [t.scope, t.jobType] })],
  );
  const jobGroups = l.sqliteTable(
    n.jobGroups,
    {
      scope: l.text("scope").notNull(),
      jobType: l.integer("job_type").notNull(),
      groupKey: l.text("group_key").notNull(),
      backoffUntil: l.integer("backoff_until").notNull().default(0),
      updatedAt: l.integer("updated_at").notNull().default(0),
    },
    (t) => [l.primaryKey({ columns: [t.scope, t.jobType, t.groupKey] })],
  );
  const jobStarts = l.sqliteTable(
    n.jobStarts,
    {
      // A plain rowid (INTEGER PRIMARY KEY), no AUTOINCREMENT: as core creates it.
      id: l.integer("id").primaryKey(),
      scope: l.text("scope").notNull(),
      jobType: l.integer("job_type").notNull(),
      groupKey: l.text("group_key").default(sql`NULL`),
      startedMs: l.integer("started_ms").notNull(),
    },
    (t) => [
      l.index(`${n.jobStarts}_type_idx`).on(t.scope, t.jobType, t.startedMs),
      l.index(`${n.jobStarts}_group_idx`).on(t.scope, t.jobType, t.groupKey, t.startedMs),
    ],
  );
  const jobStats = l.sqliteTable(
    n.jobStats,
    {
      scope: l.text("scope").notNull(),
      jobType: l.integer("job_type").notNull(),
      jobStatus: l.integer("job_status").notNull(),
      minuteStart: l.integer("minute_start").notNull(),
      finished: l.integer("finished").notNull().default(0),
    },
    (t) => [l.primaryKey({ columns: [t.scope, t.jobType, t.jobStatus, t.minuteStart] })],
  );
  const locks = l.sqliteTable(n.locks, {
    lockName: l.text("lock_name").notNull().primaryKey(),
    lockUntil: l.text("lock_until").notNull().default(now),
    lockedAt: l.text("locked_at").notNull().default(now),
    lockedBy: l.text("locked_by").notNull(),
  });
  return { jobs, locks, schedules, jobTypes, jobGroups, jobStarts, jobStats };
}

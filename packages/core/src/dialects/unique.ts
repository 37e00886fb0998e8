import { JobStatus } from "../job-status.js";
import { NOT_STARTED, UNIQUE_LIVE_PREDICATE } from "../statements/jobs.js";
import type { OnConflict, UniqueInsertForm } from "./dialect.js";
import { ident, raw, type SqlFragment, sql } from "./sql.js";

/** The columns "replace" rewrites on a job that has not started: what `add()` decides. */
const REPLACED = [
  "params",
  "start_time",
  "run_at",
  "priority",
  "group_key",
  "trace_context",
  "update_time",
] as const;

/**
 * PostgreSQL and SQLite (3.24+): `ON CONFLICT` on the partial unique index,
 * named by its columns and predicate (which the target must imply).
 * "keep": `DO NOTHING` — nothing is written or locked, RETURNING yields no row
 * and the existing job is then read by the index. "replace": `DO UPDATE … WHERE`
 * the job has not started; PostgreSQL locks the row first and evaluates the WHERE
 * on its latest version, so a claim that got there first wins and the job is kept.
 */
export const onConflictForm: UniqueInsertForm = {
  returning: true,
  liveKeyColumn: "unique_key",
  readSuffix: "",
  conflictClause(table: string, onConflict: OnConflict): SqlFragment {
    const target = raw(`ON CONFLICT (job_type, unique_key) WHERE ${UNIQUE_LIVE_PREDICATE}`);
    if (onConflict === "keep") return sql`${target} DO NOTHING`;
    const set = REPLACED.map((c) => `${c} = excluded.${c}`).join(", ");
    const t = ident(table);
    const notStarted = sql`${t}.job_status = ${raw(String(JobStatus.Init))} AND ${t}.attempts = 0`;
    return sql`${target} DO UPDATE SET ${raw(set)} WHERE ${notStarted}`;
  },
};

/**
 * MySQL and MariaDB: `ON DUPLICATE KEY UPDATE` on the unique index over the
 * generated `unique_live` column. `id = LAST_INSERT_ID(id)` makes the driver's
 * insertId the existing job's id on a conflict (and the new one otherwise), in
 * the same statement, the same on MySQL 8 (no INSERT … RETURNING) and MariaDB.
 * Measured on MariaDB 10.11: with CLIENT_FOUND_ROWS (mysql2's default) the id
 * comes back on every conflict; without it (Sequelize's connections) a
 * conflict that changed nothing reports insertId 0, and the id is then read
 * through the index (the only read after the write, and only then). "replace" assigns each column only if the job has not
 * started; the assignments run left to right and none of them changes
 * job_status or attempts, so every condition sees the row as it was.
 */
export const duplicateKeyForm: UniqueInsertForm = {
  returning: false,
  liveKeyColumn: "unique_live",
  readSuffix: " LOCK IN SHARE MODE",
  conflictClause(_table: string, onConflict: OnConflict): SqlFragment {
    const replace =
      onConflict === "replace"
        ? REPLACED.map((c) => `${c} = IF(${NOT_STARTED}, VALUES(${c}), ${c}), `).join("")
        : "";
    return sql`${raw(`ON DUPLICATE KEY UPDATE ${replace}id = LAST_INSERT_ID(id)`)}`;
  },
};

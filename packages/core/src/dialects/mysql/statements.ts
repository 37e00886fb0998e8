import type { DB, Row } from "../../db.js";
import { UnsupportedError } from "../../errors.js";
import { JobStatus } from "../../job-status.js";
import { claimIndexName } from "../../schema/tables.js";
import { logStarts } from "../../statements/flow.js";
import {
  claimAssignments,
  dueLevel,
  jobColumns,
  pickDue,
  pickLimited,
  pickOptimistic,
  recordsStarts,
  stillClaimable,
} from "../claim.js";
import { completeSucceededStatement } from "../complete.js";
import type {
  ClaimLimits,
  ClaimLocking,
  ClaimParams,
  DialectStatements,
  SqlHooks,
} from "../dialect.js";
import { commonJobOperations, insertOperations } from "../job-operations.js";
import { execSql, ident, join, querySql, raw, type SqlFragment, sql } from "../sql.js";
import { duplicateKeyForm } from "../unique.js";
import type { MysqlVariant } from "./version.js";

/**
 * MySQL's runtime statements. Neither MySQL 8 nor MariaDB 10.11 has UPDATE …
 * RETURNING, so the claim and the batched completion take other round trips
 * than on the other databases: that difference lives in this file's
 * operations, not in the engine.
 */
export function mysqlStatements(
  hooks: SqlHooks,
  variant: MysqlVariant,
  claimLocking: ClaimLocking = "skip-locked",
): DialectStatements {
  const optimistic = claimLocking === "optimistic";
  /**
   * Claim, MySQL form (no UPDATE … RETURNING): one autocommit statement that
   * joins the picked ids (locked with SKIP LOCKED, so concurrent claimers
   * take disjoint rows) and marks them running under `token`. The claimed
   * rows are then read with `selectClaimed`. The derived table carries
   * the pre-claim status, because a multi-table UPDATE may apply its SET
   * assignments in any order. Needs the (job_status, job_type, id) index: without it
   * the locking read locks every row it scans.
   *
   * The picked rows drive the join (STRAIGHT_JOIN), each job row looked up by
   * primary key. Left to itself, MariaDB 10.11 on a small table scanned the job
   * table first, and an UPDATE locks every row it reads: a claim then waited on
   * any row another transaction held (an uncommitted `add(…, { db: tx })`, a
   * running job locked by a user), and joined deadlocks with completions.
   */
  const claimJobs = (p: ClaimParams, priority?: number) => {
    const prev = sql`${ident("s")}.${ident("prev_status")}`;
    const attempts = sql`${ident(p.table)}.${ident("attempts")}`;
    return sql`UPDATE (${pickDue(hooks, p, priority)}) AS ${ident("s")} STRAIGHT_JOIN ${ident(p.table)} FORCE INDEX (PRIMARY) ON ${ident(p.table)}.${ident("id")} = ${ident("s")}.${ident("id")}
  SET ${claimAssignments(hooks, p, prev, attempts)}`;
  };

  /**
   * After a MySQL-form claim: the rows claimed under `token`. Served by the
   * claim index (running rows of one type are few), forced: on a freshly filled
   * table MariaDB's statistics say one status covers every row, and it scanned
   * the whole table instead (5 ms per claim with 20k jobs queued).
   */
  const selectClaimed = (table: string, jobType: number, token: string): SqlFragment =>
    sql`SELECT ${jobColumns()} FROM ${ident(table)} ${raw(hooks.forceIndex(claimIndexName(table)))}
  WHERE job_status = ${JobStatus.Running} AND job_type = ${jobType} AND lease_token = ${token} ORDER BY id`;

  /**
   * The UPDATE that takes picked rows by primary key and marks them running under
   * `token`, where each is still in the status the pick read (optimistic: and still
   * due, {@link stillClaimable}). Shared by the limited and the optimistic claim,
   * which both pick with a plain read first.
   */
  const takePicked = (p: ClaimParams, picked: readonly { id: unknown }[]): SqlFragment => {
    const ids = picked.map((r) => sql`${Number(r.id)}`);
    const still = optimistic
      ? stillClaimable(hooks, sql`${p.status}`)
      : sql`${ident("job_status")} = ${p.status}`;
    return sql`UPDATE ${ident(p.table)} SET ${claimAssignments(hooks, p, sql`${p.status}`, ident("attempts"))}
  WHERE ${ident("id")} IN (${join(ids)}) AND ${still}`;
  };

  /**
   * A claim under cluster-wide limits, MySQL form: one transaction. It locks the
   * type's row in the job-types table (claims of the type in the whole cluster
   * queue there), then reads the pick with a plain read, whose snapshot InnoDB
   * takes at that first plain read, after the lock: it sees every claim committed
   * before, and none can commit meanwhile. Then it marks the picked rows by id
   * (still in their status): four round trips with BEGIN and COMMIT, where the
   * unlimited claim takes up to three (a fifth, the read-back by token, only when
   * a picked row changed between the read and the update).
   */
  const claimLimited = async (db: DB, p: ClaimParams, limits: ClaimLimits): Promise<Row[]> => {
    if (!db.transaction)
      throw new UnsupportedError(
        `globalConcurrency and groupConcurrency on MySQL need DB.transaction, which this adapter does not offer; use a pool adapter (fromMysql2(pool), an ORM's connection) rather than one bound to a transaction.`,
      );
    const ts = p.flow;
    return db.transaction(async (tx) => {
      const [gate] = await querySql<{ paused: unknown }>(
        tx,
        hooks,
        sql`SELECT ${ident("paused")} FROM ${ident(ts.types)} WHERE ${ident("scope")} = ${ts.scope} AND ${ident("job_type")} = ${p.jobType} FOR UPDATE`,
      );
      if (gate === undefined || Number(gate.paused) !== 0) return [];
      // The pick reads the claimed rows' columns too: when the update then takes every
      // picked row (nothing changed them meanwhile), no read-back is needed.
      const t = ident(p.table);
      const picked = await querySql<Row & { id: unknown; prev_status: unknown }>(
        tx,
        hooks,
        sql`SELECT ${jobColumns("j")}, ${ident("y")}.${ident("prev_status")} FROM (${pickLimited(hooks, p, limits, "")}) AS ${ident("y")}
  STRAIGHT_JOIN ${t} AS ${ident("j")} ON ${ident("j")}.${ident("id")} = ${ident("y")}.${ident("id")}`,
      );
      if (picked.length === 0) return [];
      const updated = await execSql(tx, hooks, takePicked(p, picked));
      if (recordsStarts(limits))
        await execSql(tx, hooks, logStarts(hooks, ts, p.table, p.jobType, p.token));
      if (updated.affectedRows === picked.length) {
        return picked.map(({ prev_status, ...row }) => ({
          ...row,
          attempts:
            Number(prev_status) === JobStatus.Continue
              ? Number(row.attempts)
              : Number(row.attempts) + 1,
        }));
      }
      return querySql(tx, hooks, selectClaimed(p.table, p.jobType, p.token));
    });
  };

  /**
   * Claim, optimistic form (claimLocking "optimistic": TiDB, servers without SKIP
   * LOCKED, or forced): the same three round trips as the SKIP LOCKED form, no row
   * locks read. A plain read picks candidates (the priority level as a subquery: a
   * plain read waits on no lock), the UPDATE takes them by primary key where they
   * are still claimable (InnoDB's UPDATE re-reads the latest committed row: one
   * another claim took is running now and is skipped), and the rows claimed are
   * read back by token. Nothing due: one round trip.
   */
  const claimOptimistic = async (db: DB, p: ClaimParams): Promise<Row[]> => {
    const picked = await querySql<{ id: unknown }>(db, hooks, pickOptimistic(hooks, p));
    if (picked.length === 0) return [];
    const result = await execSql(db, hooks, takePicked(p, picked));
    return result.affectedRows === 0
      ? []
      : querySql(db, hooks, selectClaimed(p.table, p.jobType, p.token));
  };

  return {
    claimJobs,
    ...commonJobOperations(hooks),
    /**
     * Up to three round trips: which priority level is due (a plain read), the claim
     * of that level, then (when it took any row) the read-back by token. The level
     * is not a subquery of the claim because InnoDB reads every table of an UPDATE
     * with locks, and only the pick's own rows skip locked ones: the level's seeks
     * then waited on any row an open transaction held (an uncommitted
     * `add(…, { db: tx })`). Nothing due: one round trip, no locks taken.
     */
    async claim(db, p) {
      if (p.limits) return claimLimited(db, p, p.limits);
      if (optimistic) return claimOptimistic(db, p);
      const [level] = await querySql<{ p: unknown }>(db, hooks, dueLevel(hooks, p));
      if (level?.p === null || level?.p === undefined) return [];
      const result = await execSql(db, hooks, claimJobs(p, Number(level.p)));
      return result.affectedRows === 0
        ? []
        : querySql(db, hooks, selectClaimed(p.table, p.jobType, p.token));
    },
    /**
     * The statement reports matched rows only: when every pair matched, each is a
     * distinct job and each run completed; otherwise it cannot say which, and the
     * engine confirms by (id, token).
     */
    async completeSucceeded(db, table, jobs) {
      const r = await execSql(db, hooks, completeSucceededStatement(hooks, table, jobs, false));
      return { completed: r.affectedRows >= jobs.length ? jobs : [], exact: false };
    },
    ...insertOperations(hooks, variant === "mariadb", duplicateKeyForm), // MariaDB 10.5+ has INSERT … RETURNING; MySQL 8 does not

    // The lock table's TIMESTAMP columns and NOW() convert through the session's time zone,
    // and local time repeats an hour in autumn. Measured on MariaDB 10.11 in Europe/Berlin
    // (2022-10-30): a lock released at 00:50 UTC read as held again from 01:00 to 01:50 UTC
    // (02:50 local compared with 02:xx local); one taken at 01:30 UTC for 31 s was stored
    // as expiring at 00:30:31 UTC, free to a second holder at once; one taken at 00:59:50
    // UTC lasted 3631 s. So our lock statements run in UTC, for the one statement: same
    // text otherwise, and the instants they store are the ones the Go library's session
    // reads back in its own zone. MariaDB: SET STATEMENT (10.1.2+, also in prepared
    // statements). MySQL 8: the SET_VAR hint; a server that does not take it ignores the
    // hint with a warning and behaves as before (not run here: no MySQL 8 in the matrix).
    utcStatement: (verb) =>
      variant === "mariadb"
        ? `SET STATEMENT time_zone = '+00:00' FOR ${verb}`
        : `${verb} /*+ SET_VAR(time_zone = '+00:00') */`,
    // The seed's lock columns are TIMESTAMP: whole seconds, fractions truncated. A lock
    // must never be shorter than asked, so lock times round up: from the whole second
    // now, plus the duration in whole seconds, plus one. It may last up to 2 s longer.
    lockNow: "NOW(3)",
    lockNowPlusMs: (ms) => sql`(NOW() + INTERVAL ${Math.ceil(ms / 1000) + 1} SECOND)`,
    lockTimePlusMs: (column, ms) =>
      ms > 0
        ? sql`(${ident(column)} + INTERVAL ${Math.ceil(ms / 1000) + 1} SECOND)`
        : sql`${ident(column)}`,
  };
}

import { JobStatus } from "../../job-status.js";
import {
  claimAssignments,
  jobColumns,
  pickDue,
  pickLimited,
  pickOptimistic,
  recordsStarts,
  stillClaimable,
} from "../claim.js";
import type {
  ClaimLocking,
  ClaimParams,
  DialectStatements,
  InsertJobRows,
  SqlHooks,
} from "../dialect.js";
import { commonJobOperations, insertOperations } from "../job-operations.js";
import { returningOperations } from "../returning.js";
import { execSql, ident, querySql, raw, sql } from "../sql.js";
import { onConflictForm } from "../unique.js";

/** PostgreSQL's runtime statements: the one-statement claim, the JSON bulk insert, NOTIFY, lock times. */
export function postgresStatements(
  hooks: SqlHooks,
  claimLocking: ClaimLocking = "skip-locked",
): DialectStatements {
  const optimistic = claimLocking === "optimistic";
  const prevStatus = sql`${ident("picked")}.${ident("prev_status")}`;
  /**
   * Claim, PostgreSQL form: one statement. The CTE picks and locks due rows
   * (SKIP LOCKED: concurrent claimers take disjoint rows without waiting),
   * the UPDATE marks them running under `token` and returns them.
   *
   * Optimistic (claimLocking "optimistic"): the CTE reads candidates without
   * locks (see pickOptimistic) and the UPDATE takes only those still claimable,
   * re-checked on the newest row version (stillClaimable): a row another claim
   * took meanwhile is skipped, so a claim may return fewer rows than it could.
   */
  const claimJobs = (p: ClaimParams) => {
    const pick = optimistic ? pickOptimistic(hooks, p) : pickDue(hooks, p);
    const picked = p.limits ? limitedPick(p) : sql`${ident("picked")} AS (${pick})`;
    const cas = optimistic ? sql` AND ${stillClaimable(hooks, prevStatus)}` : sql``;
    const update = sql`UPDATE ${ident(p.table)} AS ${ident("j")} SET ${claimAssignments(hooks, p, prevStatus, sql`${ident("j")}.${ident("attempts")}`)}
  FROM ${ident("picked")} WHERE ${ident("j")}.${ident("id")} = ${ident("picked")}.${ident("id")}${cas}
  RETURNING ${jobColumns("j")}`;
    if (!recordsStarts(p.limits)) return sql`WITH ${picked}\n${update}`;
    // A rate-limited type records its starts in the same statement.
    const f = p.flow;
    return sql`WITH ${picked}, ${ident("claimed")} AS (${update}),
${ident("logged")} AS (INSERT INTO ${ident(f.starts)} (${ident("scope")}, ${ident("job_type")}, ${ident("group_key")}, ${ident("started_ms")})
  SELECT ${f.scope}, ${p.jobType}, ${ident("group_key")}, ${raw(hooks.nowMs)} FROM ${ident("claimed")})
SELECT ${jobColumns()} FROM ${ident("claimed")}`;
  };

  /**
   * The CTEs of a claim under cluster-wide limits: `gate`, then `picked`. Every
   * limited claim of the type bumps the type's `claim_seq`, but only if it still
   * holds the value this statement's snapshot saw: a claim that waited for
   * another's row lock finds it changed (re-checked on the newest row, READ
   * COMMITTED), updates nothing, and picks nothing. So the running rows a
   * claim counts (in its snapshot) include every claim committed before it, and
   * two claims never both fill the same room. The loser claims nothing and
   * leaves `claim_seq` alone (it cannot make the next claim lose in turn); its
   * claimer tries again shortly. Still one statement.
   *
   * The gate takes no SKIP LOCKED: it is a conditional UPDATE that waits for the
   * type's row lock. Optimistic, the candidates are read without locks (the
   * gate already keeps the type's limited claims apart; the UPDATE's re-check
   * keeps off rows anything else changed).
   */
  const limitedPick = (p: ClaimParams) => {
    const ts = p.flow;
    const row = (alias?: string) => {
      const c = (name: string) => (alias ? sql`${ident(alias)}.${ident(name)}` : ident(name));
      return sql`${c("scope")} = ${ts.scope} AND ${c("job_type")} = ${p.jobType}`;
    };
    return sql`${ident("gate")} AS (
  UPDATE ${ident(ts.types)} SET ${ident("claim_seq")} = ${ident("claim_seq")} + 1
  WHERE ${row()} AND ${ident("paused")} = 0
    AND ${ident("claim_seq")} = (SELECT ${ident("g")}.${ident("claim_seq")} FROM ${ident(ts.types)} AS ${ident("g")} WHERE ${row("g")})
  RETURNING 1 AS ${ident("ok")}
), ${ident("picked")} AS (${pickLimited(hooks, p, p.limits ?? {}, optimistic ? "" : hooks.lockRowsClause, sql`AND EXISTS (SELECT 1 FROM ${ident("gate")})`)})`;
  };

  /**
   * Enqueue many, PostgreSQL form: the rows travel as one JSON parameter and
   * json_to_recordset turns them into rows, in input order (ordinality). A
   * VALUES list of 1000 rows is 3000 parameters and 2000 clock expressions
   * for the server to parse and plan on every call.
   */
  const insertJobRows: InsertJobRows = (table, rows, returning) => {
    const json = JSON.stringify(
      rows.map((r) => ({
        p: r.params,
        t: r.jobType,
        st: r.due?.startTime ?? null,
        ra: r.due?.runAt ?? null,
        d: r.delayMs ?? null,
        pr: r.priority,
        g: r.group ?? null,
        tc: r.traceContext ?? null,
      })),
    );
    return sql`INSERT INTO ${ident(table)} (params, job_type, job_status, start_time, run_at, priority, group_key, trace_context, create_time, update_time)
SELECT v.p, v.t, ${JobStatus.Init},
  CASE WHEN v.d IS NOT NULL THEN (n.ms + v.d) / 1000 ELSE COALESCE(v.st, 0) END,
  CASE WHEN v.d IS NOT NULL THEN n.ms + v.d ELSE COALESCE(v.ra, 0) END,
  v.pr, v.g, v.tc, n.s, n.s
FROM ROWS FROM (json_to_recordset(${json}::json) AS (p text, t integer, st bigint, ra bigint, d bigint, pr integer, g text, tc text)) WITH ORDINALITY AS v(p, t, st, ra, d, pr, g, tc, ord)
CROSS JOIN (SELECT ${raw(hooks.nowMs)} AS ms, ${raw(hooks.nowSec)} AS s) AS n
ORDER BY v.ord${raw(returning ? " RETURNING id" : "")}`;
  };

  return {
    claimJobs,
    ...commonJobOperations(hooks),
    ...returningOperations(hooks, claimJobs),
    ...insertOperations(hooks, true, onConflictForm, insertJobRows),

    async refreshStatistics(db, table) {
      // reltuples: -1 until the first ANALYZE or VACUUM (0 before PostgreSQL 14).
      const [row] = await querySql<{ n: unknown }>(
        db,
        hooks,
        sql`SELECT reltuples AS n FROM pg_class WHERE oid = to_regclass(${hooks.quoteIdent(table)})`,
      );
      if (row === undefined || Number(row.n) > 0) return false;
      await execSql(db, hooks, sql`ANALYZE ${ident(table)}`);
      return true;
    },
    notify: (channel, payload) => sql`SELECT pg_notify(${channel}, ${payload})`,
    utcStatement: (verb) => verb, // lock times are absolute instants here
    lockNow: "now()",
    lockNowPlusMs: (ms) =>
      sql`(now() + CAST(${ms} AS double precision) * interval '1 millisecond')`,
    lockTimePlusMs: (column, ms) =>
      sql`(${ident(column)} + CAST(${ms} AS double precision) * interval '1 millisecond')`,
  };
}

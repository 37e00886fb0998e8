import type { DB } from "../db.js";
import type { SqlHooks } from "../dialects/dialect.js";
import { execSql, querySql } from "../dialects/sql.js";
import type { PruneRule } from "../retention.js";
import {
  createdAtOrAfter,
  databaseNowSec,
  deleteExpired,
  idRange,
  nextTypeWithStatus,
  PRUNE_BATCH,
  selectExpired,
} from "../statements/retention.js";

/**
 * Slack on the id bound, in seconds of create_time: ids and create_time grow
 * together only nearly (a Go service writes create_time from its own clock,
 * transactions commit out of order), so the range read reaches this much past
 * the first job created after the cut-off. The DELETE's own condition decides.
 */
const BOUND_SLACK_SEC = 300;

/**
 * Deletes the finished jobs each rule names that were last updated longer ago
 * than its age, by the database's clock, in batches of at most
 * {@link PRUNE_BATCH}: per status, per job type (walked on the claim index), a
 * read of the old ids, then a DELETE of those. `stopped()` is checked between
 * batches. Resolves how many rows went.
 *
 * `bounded` (the periodic cleaner): the reads stop at the first id created
 * after the cut-off (found by a binary search on the primary key), so a round
 * with nothing to delete reads almost nothing however many younger finished
 * jobs the table keeps. A job whose id is far above its create_time's
 * neighbours (a row written with an old create_time) then waits until they age
 * too. Unbounded (`prune()`): exact, at the cost of reading every row of the
 * status.
 */
export async function pruneFinished(
  db: DB,
  d: SqlHooks,
  table: string,
  rules: readonly PruneRule[],
  { bounded = false, stopped = () => false }: { bounded?: boolean; stopped?: () => boolean } = {},
): Promise<number> {
  const [clock] = await querySql<{ now: unknown }>(db, d, databaseNowSec(d));
  const nowSec = Number(clock?.now);
  let deleted = 0;
  for (const rule of rules) {
    const cutoffSec = nowSec - Math.floor(rule.olderThanMs / 1000);
    const belowId = bounded
      ? await firstIdCreatedAfter(db, d, table, cutoffSec + BOUND_SLACK_SEC)
      : Number.MAX_SAFE_INTEGER;
    if (belowId === undefined) return deleted; // an empty table
    let from = -2_147_483_648; // the lowest INT
    while (from <= 2_147_483_647) {
      const [next] = await querySql<{ job_type: unknown }>(
        db,
        d,
        nextTypeWithStatus(d, table, rule.status, from),
      );
      if (!next) break;
      const jobType = Number(next.job_type);
      from = jobType + 1;
      for (;;) {
        if (stopped()) return deleted;
        const ids = (
          await querySql<{ id: unknown }>(
            db,
            d,
            selectExpired(d, table, rule.status, jobType, belowId, cutoffSec),
          )
        ).map((r) => Number(r.id));
        if (ids.length === 0) break;
        deleted += (await execSql(db, d, deleteExpired(d, table, ids, rule.status, cutoffSec)))
          .affectedRows;
        if (ids.length < PRUNE_BATCH) break;
      }
    }
  }
  return deleted;
}

/**
 * The lowest id such that the job at or after it was created at or after
 * `sec` (one past the highest id when none was): a binary search of primary-key
 * seeks, about 20 for a million rows. Undefined on an empty table.
 */
async function firstIdCreatedAfter(
  db: DB,
  d: SqlHooks,
  table: string,
  sec: number,
): Promise<number | undefined> {
  const [range] = await querySql<{ lo: unknown; hi: unknown }>(db, d, idRange(d, table));
  if (range?.lo === null || range?.lo === undefined) return undefined;
  let lo = Number(range.lo);
  let hi = Number(range.hi) + 1;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const [row] = await querySql<{ create_time: unknown }>(db, d, createdAtOrAfter(d, table, mid));
    if (row && Number(row.create_time) < sec) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

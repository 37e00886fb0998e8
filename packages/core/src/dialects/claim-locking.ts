import type { ClaimLocking } from "./dialect.js";

/**
 * The claim locking a server's version string calls for (`SELECT VERSION()` on the
 * MySQL family, `SELECT version()` on the PostgreSQL one): `"optimistic"` for the
 * distributed SQL engines that report themselves there, else `"skip-locked"`.
 *
 * - TiDB (`8.0.11-TiDB-v7.5.1`): parses `FOR UPDATE SKIP LOCKED` and takes no lock
 *   (pingcap/tidb#69720), so two claimers would both take a row.
 * - CockroachDB (`CockroachDB CCL v23.2.4 (x86_64-pc-linux-gnu, …)`): no SKIP LOCKED
 *   before 23.1, and with READ COMMITTED it skipped replicated locks wrongly
 *   (cockroachdb/cockroach#115057); its default SERIALIZABLE turns claim races into
 *   retry errors either way.
 * - YugabyteDB (`PostgreSQL 11.2-YB-2.20.1.0-b0 on x86_64-pc-linux-gnu, …`): a
 *   distributed row store behind PostgreSQL's front end; not run here, so not trusted
 *   with SKIP LOCKED.
 *
 * A pure function of the string, so that it is tested on the strings themselves: no
 * such server can be installed here (docs/scaling.md).
 */
export function claimLockingFor(version: string): Exclude<ClaimLocking, "single-writer"> {
  return /-TiDB-|CockroachDB|-YB-/i.test(version) ? "optimistic" : "skip-locked";
}

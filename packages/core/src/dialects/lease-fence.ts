import { join, type SqlFragment, sql } from "./sql.js";

/**
 * SQL condition: the row is one of `jobs`, each under its own lease token —
 * the fence of every statement that writes or reads many runs at once. `id IN
 * (…)` lets every database use the primary key; the tokens are then checked
 * per token, not per pair: a batch of one claim's jobs (the common case) is
 * `lease_token = ?`, and several claims' jobs are one `(lease_token = ? AND id
 * IN (…))` per token. A list of (id, token) pairs, `(id, lease_token) IN ((?, ?),
 * …)`, said the same, but no database here looks a row pair up in it: each
 * row was compared with every pair, and a completion of 500 jobs took 24 ms on
 * PostgreSQL where this takes 9 (32 jobs: 2.5 ms, 1.4 ms).
 */
export function leaseFence(
  jobs: readonly { readonly id: number; readonly token: string }[],
): SqlFragment {
  const byToken = new Map<string, number[]>();
  for (const j of jobs) {
    const ids = byToken.get(j.token);
    if (ids) ids.push(j.id);
    else byToken.set(j.token, [j.id]);
  }
  const ids = jobs.map((j) => j.id);
  if (byToken.size === 1) {
    const [token] = byToken.keys();
    return sql`id IN (${ids}) AND lease_token = ${token as string}`;
  }
  const perToken = [...byToken].map(([token, own]) =>
    own.length === 1
      ? sql`(id = ${own[0] as number} AND lease_token = ${token})`
      : sql`(lease_token = ${token} AND id IN (${own}))`,
  );
  return sql`id IN (${ids}) AND (${join(perToken, " OR ")})`;
}

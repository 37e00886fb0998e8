import type { Outcome } from "./define-db.js";

/** What Kysely's `executeQuery` resolves to. */
export interface KyselyQueryResult {
  readonly rows: unknown[];
  readonly numAffectedRows?: bigint | undefined;
  readonly insertId?: bigint | undefined;
}

/**
 * The part of a Kysely instance, transaction or connection that runs a compiled query: what
 * the Kysely adapter is given, and what MikroORM 7's SQL drivers run on.
 */
export interface KyselyExecutor {
  executeQuery(query: {
    readonly sql: string;
    readonly parameters: readonly unknown[];
    readonly query: object;
    readonly queryId: object;
  }): Promise<KyselyQueryResult>;
}

/**
 * Runs `sql` with `params` on a Kysely executor as a raw compiled query, in the shape
 * Kysely's `CompiledQuery.raw(sql, params)` builds (built here, so no adapter loads Kysely at
 * run time): the driver gets the SQL and the parameters untouched. `affectedRows` is Kysely's
 * `numAffectedRows` (matched rows on mysql2 with its default FOUND_ROWS flag).
 */
export async function runOnKysely(
  executor: KyselyExecutor,
  sql: string,
  params: unknown[],
): Promise<Outcome> {
  const { rows, numAffectedRows, insertId } = await executor.executeQuery({
    sql,
    parameters: params,
    query: { kind: "RawNode", sqlFragments: [sql], parameters: [] },
    queryId: { queryId: "persistent-queue" }, // one object per query: plugins key their state on it
  });
  return {
    rows,
    affectedRows: numAffectedRows === undefined ? undefined : Number(numAffectedRows),
    insertId,
  };
}

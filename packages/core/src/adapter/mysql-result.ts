import type { Outcome } from "./define-db.js";

/**
 * What a MySQL/MariaDB driver returned for one statement (mysql2, the mariadb
 * connector, or either through an ORM), as an {@link Outcome}: the rows, or
 * the OK header's counts. `affectedRows` is the rows *matched*, which the
 * engine's lease fence needs: the server's info text of an UPDATE ("Rows
 * matched: N  Changed: M") says it whatever the FOUND_ROWS flag (Sequelize and
 * TypeORM may turn it off); without info, the driver's `affectedRows`.
 */
export function mysqlOutcome(result: unknown): Outcome {
  if (Array.isArray(result)) return { rows: result };
  const header = (result ?? {}) as { affectedRows?: unknown; insertId?: unknown; info?: unknown };
  const matched = /Rows matched:\s*(\d+)/.exec(String(header.info ?? ""))?.[1];
  return {
    affectedRows: Number(matched ?? header.affectedRows ?? 0),
    insertId: header.insertId,
  };
}

/**
 * Driver and ORM errors carry the server's code in different places: mysql2
 * sets `errno`/`code`, pg sets `code` (SQLSTATE), better-sqlite3 sets `code`,
 * TypeORM wraps in `driverError`, Sequelize in `parent`/`original`, Prisma in
 * `meta.driverAdapterError.cause` with the server's code as `originalCode`. This walks all of them once and returns every code and
 * message found, so a dialect can classify an error from any adapter.
 */
export function errorFacts(err: unknown): { codes: Set<string>; messages: string[] } {
  const codes = new Set<string>();
  const messages: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): void => {
    if (e === null || typeof e !== "object" || seen.has(e) || depth > 5) return;
    seen.add(e);
    const o = e as Record<string, unknown>;
    for (const key of ["code", "errno", "sqlState", "sqlstate", "originalCode"]) {
      const v = o[key];
      if (typeof v === "string" || typeof v === "number") codes.add(String(v));
    }
    if (typeof o.message === "string") messages.push(o.message);
    for (const key of ["cause", "driverError", "original", "parent", "meta"])
      visit(o[key], depth + 1);
  };
  visit(err, 0);
  return { codes, messages };
}

/** True if `err` carries any of `codes`, or a message matching `pattern`. */
export function errorMatches(err: unknown, codes: readonly string[], pattern?: RegExp): boolean {
  const facts = errorFacts(err);
  if (codes.some((c) => facts.codes.has(c))) return true;
  return pattern !== undefined && facts.messages.some((m) => pattern.test(m));
}

import { errorMessage } from "./run-handler.js";

/** Properties in which drivers and ORMs put the statement or its values (mysql2 `sql` with values inlined, pg `detail`, TypeORM `query`/`parameters`, Sequelize `sql`/`parameters`). */
const STATEMENT_KEYS = ["sql", "query", "parameters", "params", "values", "detail", "where"];
const REDACTED = "[redacted by persistent-queue: may hold job params]";

/** Credentials in a connection string: `scheme://user:password@host`. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*(?::[^\s/@]*)?@/gi;
/** A MySQL syntax error quotes the statement from where it went wrong, values inlined. */
const NEAR_QUOTE = /near '[\s\S]*' at line/g;

function scrubText(text: string): string {
  return text.replace(URL_CREDENTIALS, "$1***@").replace(NEAR_QUOTE, "near '…' at line");
}

/**
 * Makes a database error safe to log or emit: removes the statement text and
 * bound values that drivers attach (they can hold job params) and credentials
 * in connection strings, along the error's cause chain. Mutates and returns
 * the same object: it is the driver's error for the engine's own statement.
 * Codes, classes and the server's message stay, so the error is still
 * recognisable (and `cause` still links).
 */
export function redactError<T>(error: T): T {
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): void => {
    if (e === null || typeof e !== "object" || seen.has(e) || depth > 5) return;
    seen.add(e);
    const o = e as Record<string, unknown>;
    for (const key of STATEMENT_KEYS) {
      if (key in o && o[key] !== undefined && typeof o[key] !== "function") {
        try {
          o[key] = REDACTED;
        } catch {
          // a read-only property: leave it
        }
      }
    }
    for (const key of ["message", "sqlMessage", "stack"]) {
      if (typeof o[key] === "string") {
        try {
          o[key] = scrubText(o[key] as string);
        } catch {
          // read-only
        }
      }
    }
    for (const key of ["cause", "driverError", "original", "parent", "meta", "errors"]) {
      const next = o[key];
      if (Array.isArray(next)) for (const n of next) visit(n, depth + 1);
      else visit(next, depth + 1);
    }
  };
  visit(error, 0);
  return error;
}

/** {@link errorMessage} of a database error, redacted: for logs. */
export function dbErrorMessage(error: unknown): string {
  return errorMessage(redactError(error));
}

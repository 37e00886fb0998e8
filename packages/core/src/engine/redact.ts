import { errorMessage } from "./run-handler.js";

/**
 * Properties in which drivers and ORMs put the statement or its values (mysql2 `sql` with
 * values inlined, pg `detail`, TypeORM `query`/`parameters`, Sequelize `sql`/`parameters`,
 * postgres.js `query`/`parameters`/`args`).
 */
const STATEMENT_KEYS = [
  "sql",
  "query",
  "parameters",
  "params",
  "args",
  "values",
  "detail",
  "where",
];
const REDACTED = "[redacted by persistent-queue: may hold job params]";

/** Credentials in a connection string: `scheme://user:password@host`. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*(?::[^\s/@]*)?@/gi;
/** A MySQL syntax error quotes the statement from where it went wrong, values inlined. */
const NEAR_QUOTE = /near '[\s\S]*' at line/g;

function scrubText(text: string): string {
  return text.replace(URL_CREDENTIALS, "$1***@").replace(NEAR_QUOTE, "near '…' at line");
}

/** Sets `o[key]`; false when the property is read-only (or a setter ignored it). */
function trySet(o: Record<string, unknown>, key: string, value: unknown): boolean {
  try {
    o[key] = value;
  } catch {
    return false;
  }
  return o[key] === value;
}

/** A copy of `o` of the same class, its own properties writable: for errors a driver froze parts of. */
function writableCopy(o: object): Record<string, unknown> {
  const descriptors = Object.getOwnPropertyDescriptors(o);
  for (const d of Object.values(descriptors)) {
    d.configurable = true;
    if (!d.get && !d.set) d.writable = true;
  }
  return Object.create(Object.getPrototypeOf(o), descriptors) as Record<string, unknown>;
}

/**
 * Makes a database error safe to log or emit: removes the statement text and
 * bound values that drivers attach (they can hold job params) and credentials
 * in connection strings, along the error's cause chain. Mutates and returns
 * the same object: it is the driver's error for the engine's own statement.
 * Where a driver made such a property read-only (postgres.js defines `query`,
 * `parameters` and `args` so), it returns a redacted copy of the same class
 * instead. Codes, classes and the server's message stay, so the error is still
 * recognisable (and `cause` still links).
 */
export function redactError<T>(error: T): T {
  const done = new Map<unknown, unknown>();
  const visit = (e: unknown, depth: number): unknown => {
    if (e === null || typeof e !== "object" || depth > 5) return e;
    if (done.has(e)) return done.get(e);
    done.set(e, e);
    let o = e as Record<string, unknown>;
    const set = (key: string, value: unknown) => {
      if (trySet(o, key, value)) return;
      if (o !== e) return; // already a copy: a setter of its own ignored it; leave it
      o = writableCopy(e);
      done.set(e, o);
      trySet(o, key, value);
    };
    for (const key of STATEMENT_KEYS) {
      if (key in o && o[key] !== undefined && typeof o[key] !== "function") set(key, REDACTED);
    }
    for (const key of ["message", "sqlMessage", "stack"]) {
      const text = o[key];
      if (typeof text === "string" && scrubText(text) !== text) set(key, scrubText(text));
    }
    for (const key of ["cause", "driverError", "original", "parent", "meta", "errors"]) {
      const next = o[key];
      if (Array.isArray(next)) {
        next.forEach((n, i) => {
          const redacted = visit(n, depth + 1);
          if (redacted !== n)
            trySet(next as unknown as Record<string, unknown>, String(i), redacted);
        });
      } else {
        const redacted = visit(next, depth + 1);
        if (redacted !== next) set(key, redacted);
      }
    }
    return o;
  };
  return visit(error, 0) as T;
}

/** {@link errorMessage} of a database error, redacted: for logs. */
export function dbErrorMessage(error: unknown): string {
  return errorMessage(redactError(error));
}

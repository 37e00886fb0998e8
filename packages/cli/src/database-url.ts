import { resolve } from "node:path";
import { UsageError } from "./errors.js";

/** A database the command can open, from `--db` or `PQ_DATABASE_URL`. */
export type DatabaseTarget =
  | {
      /** MySQL or MariaDB through mysql2 (`mysql://` or `mariadb://`). */
      readonly kind: "mysql";
      /** The URL as mysql2 reads it (scheme `mysql://`). */
      readonly url: string;
    }
  | {
      /** PostgreSQL through node-postgres (`postgres://` or `postgresql://`). */
      readonly kind: "postgres";
      /** The URL as given (node-postgres reads it as `connectionString`). */
      readonly url: string;
    }
  | {
      /** A SQLite file through better-sqlite3 or `node:sqlite` (`sqlite:PATH`). */
      readonly kind: "sqlite";
      /** The absolute path of the file. */
      readonly path: string;
    };

const EXAMPLES =
  "mysql://user:password@host:3306/db, mariadb://…, postgres://user:password@host:5432/db, postgresql://…, or sqlite:path/to/file.sqlite";

/** The URL with its password replaced by `***`, for messages; the text itself when it is not a URL. */
export function redactUrl(text: string): string {
  const start = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0].length;
  if (start === undefined) return text;
  const end = text.indexOf("/", start);
  const authority = text.slice(start, end === -1 ? undefined : end);
  const at = authority.lastIndexOf("@"); // a password may hold an unencoded "@"
  const colon = authority.indexOf(":");
  if (at === -1 || colon === -1 || colon > at) return text;
  return `${text.slice(0, start + colon + 1)}***${text.slice(start + at)}`;
}

/**
 * Reads a database URL: `mysql://` or `mariadb://` (mysql2), `postgres://` or
 * `postgresql://` (pg), `sqlite:PATH` (better-sqlite3 or node:sqlite; a relative PATH is
 * relative to `cwd`; `sqlite://PATH` is read the same way). Throws a
 * {@link UsageError} that names the accepted forms for anything else.
 */
export function parseDatabaseUrl(text: string, cwd = process.cwd()): DatabaseTarget {
  const shown = redactUrl(text);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme === "sqlite") {
    const path = text.slice("sqlite:".length).replace(/^\/\/(?=.)/, "");
    if (path === "" || path === ":memory:")
      throw new UsageError(
        `the database URL "${shown}" names no SQLite file: write sqlite:PATH, e.g. sqlite:./queue.sqlite (an in-memory database would vanish when the command ends).`,
      );
    return { kind: "sqlite", path: resolve(cwd, path) };
  }
  if (scheme === undefined || !["mysql", "mariadb", "postgres", "postgresql"].includes(scheme)) {
    throw new UsageError(
      `the database URL "${shown}" is not one the command can open${scheme ? ` (scheme ${scheme}: is not supported)` : " (it has no scheme)"}. Pass --db or set PQ_DATABASE_URL to ${EXAMPLES}.`,
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new UsageError(
      `the database URL "${shown}" is not a valid URL: check its host, port and that special characters in the user name or password are percent-encoded (%40 for @). Expected ${EXAMPLES}.`,
      { cause },
    );
  }
  if (url.hostname === "")
    throw new UsageError(
      `the database URL "${shown}" names no host: write ${scheme}://user:password@host:port/database.`,
    );
  if (url.pathname.replace(/^\//, "") === "")
    throw new UsageError(
      `the database URL "${shown}" names no database: add it as the path, e.g. ${scheme}://user@${url.host}/app.`,
    );
  if (scheme === "mysql" || scheme === "mariadb") {
    url.protocol = "mysql:"; // mysql2 speaks to both; the queue asks the server which it is
    return { kind: "mysql", url: url.toString() };
  }
  return { kind: "postgres", url: text };
}

import type { DB } from "@persistent-queue/core";
import type { DatabaseTarget } from "./database-url.js";
import { DatabaseUnreachableError, DriverMissingError } from "./errors.js";

/** How long a connection attempt may take before the command gives up (exit 3). */
const CONNECT_TIMEOUT_MS = 10_000;

/** An open database: the queue's `DB`. Closing it ends the driver's pool or file. */
export interface OpenedDatabase {
  /** The database as the queue takes it, from the adapter of its driver. */
  readonly db: DB;
  /** Ends the pool (or closes the file); never rejects. */
  close(): Promise<void>;
}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /**
   * Create the SQLite file when it does not exist (`migrate`). Otherwise a
   * missing file is a {@link DatabaseUnreachableError}: a typo in the path
   * must not leave an empty database behind.
   */
  readonly createSqliteFile?: boolean;
}

const isModuleNotFound = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
};

/**
 * Imports the driver and its adapter, which are optional peer dependencies:
 * only the one the URL needs has to be installed. A missing one is a
 * {@link DriverMissingError} naming what to install.
 */
async function load<T>(scheme: string, packages: readonly string[], fn: () => Promise<T>) {
  try {
    return await fn();
  } catch (error) {
    if (isModuleNotFound(error)) throw new DriverMissingError(scheme, packages, { cause: error });
    throw error;
  }
}

/**
 * Opens the database `target` names with its driver (mysql2, pg or
 * better-sqlite3, loaded on demand) and wraps it in the matching
 * persistent-queue adapter. No connection is made yet for a server: the
 * first statement connects (and fails there when the server is away).
 */
export async function openDatabase(
  target: DatabaseTarget,
  options: OpenDatabaseOptions = {},
): Promise<OpenedDatabase> {
  switch (target.kind) {
    case "mysql": {
      const [{ fromMysql2 }, mysql] = await load(
        "mysql:// or mariadb://",
        ["@persistent-queue/mysql2", "mysql2"],
        () => Promise.all([import("@persistent-queue/mysql2"), import("mysql2/promise")]),
      );
      const createPool = mysql.createPool ?? mysql.default.createPool;
      const pool = createPool({
        uri: target.url,
        connectionLimit: 2,
        connectTimeout: CONNECT_TIMEOUT_MS,
      });
      return { db: fromMysql2(pool), close: () => pool.end().catch(() => undefined) };
    }
    case "postgres": {
      const [{ fromPg }, pg] = await load(
        "postgres:// or postgresql://",
        ["@persistent-queue/pg", "pg"],
        () => Promise.all([import("@persistent-queue/pg"), import("pg")]),
      );
      const pool = new pg.default.Pool({
        connectionString: target.url,
        max: 2,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      });
      return { db: fromPg(pool), close: () => pool.end().catch(() => undefined) };
    }
    case "sqlite": {
      const [{ fromBetterSqlite3 }, sqlite] = await load(
        "sqlite:",
        ["@persistent-queue/better-sqlite3", "better-sqlite3"],
        () => Promise.all([import("@persistent-queue/better-sqlite3"), import("better-sqlite3")]),
      );
      let database: InstanceType<typeof sqlite.default>;
      try {
        database = new sqlite.default(target.path, {
          fileMustExist: options.createSqliteFile !== true,
        });
      } catch (cause) {
        throw new DatabaseUnreachableError(
          options.createSqliteFile
            ? `cannot open or create the SQLite file ${target.path}: ${(cause as Error).message}. Check that its folder exists and is writable.`
            : `no SQLite database at ${target.path} (${(cause as Error).message}). Check the path, or create the tables there with \`persistent-queue migrate\`.`,
          { cause },
        );
      }
      return {
        db: fromBetterSqlite3(database),
        close: async () => {
          if (database.open) database.close();
        },
      };
    }
  }
}

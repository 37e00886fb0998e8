import { existsSync } from "node:fs";
import type { DB } from "@persistent-queue/core";
import type { NodeSqliteDatabase } from "@persistent-queue/node-sqlite";
import type { DatabaseTarget } from "./database-url.js";
import {
  DatabaseUnreachableError,
  DriverBrokenError,
  DriverMissingError,
  UsageError,
} from "./errors.js";

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
 * better-sqlite3 is installed but its native addon does not load: built for another Node
 * (ERR_DLOPEN_FAILED, "compiled against a different Node.js version") or never built
 * (`npm ci --ignore-scripts`: the `bindings` package finds no file). Its JavaScript imports
 * fine either way; the addon loads at the first `new Database()`.
 */
const isAddonUnloadable = (error: unknown): boolean =>
  (error as { code?: unknown } | null)?.code === "ERR_DLOPEN_FAILED" ||
  /^Could not locate the bindings file/.test((error as Error | null)?.message ?? "");

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
 * Opens the database `target` names with its driver (mysql2, pg,
 * better-sqlite3 or `node:sqlite`, loaded on demand) and wraps it in the matching
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
    case "sqlite":
      return openSqlite(target.path, options);
  }
}

/** What a `sqlite:` URL needs; the second pair is the Node 22.13+ choice, nothing to compile. */
const BETTER_SQLITE3 = ["@persistent-queue/better-sqlite3", "better-sqlite3"] as const;
const NODE_SQLITE = "@persistent-queue/node-sqlite";

/** What the command uses of `node:sqlite` (typed here: this package's @types/node may predate it). */
interface BuiltinSqlite {
  DatabaseSync: new (path: string) => NodeSqliteDatabase;
}

const loadBetterSqlite3 = () =>
  Promise.all([import("@persistent-queue/better-sqlite3"), import("better-sqlite3")]);

/** `node:sqlite` of the running Node: undefined before Node 22.13 (22.5 with its flag). */
const builtinSqlite = () =>
  (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule?.("node:sqlite") as
    | BuiltinSqlite
    | undefined;

/**
 * A SQLite file through better-sqlite3 when it and its adapter are installed; else through
 * Node's built-in `node:sqlite` and @persistent-queue/node-sqlite, when this Node has it and
 * that adapter is installed. `PQ_SQLITE_DRIVER=node:sqlite` (or `better-sqlite3`) picks one.
 */
async function openSqlite(path: string, options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const choice = process.env.PQ_SQLITE_DRIVER;
  if (choice !== undefined && choice !== "node:sqlite" && choice !== "better-sqlite3") {
    throw new UsageError(
      `PQ_SQLITE_DRIVER=${choice} is not a SQLite driver the command knows: set it to node:sqlite or better-sqlite3, or unset it to let the command pick.`,
    );
  }
  const builtin = builtinSqlite();
  const missing = (cause: unknown) =>
    new DriverMissingError("sqlite:", BETTER_SQLITE3, {
      cause,
      or: builtin ? [NODE_SQLITE] : undefined,
    });
  /** better-sqlite3's error when its addon did not load and node:sqlite is tried instead. */
  let unloadable: unknown;
  if (choice !== "node:sqlite") {
    let loaded: Awaited<ReturnType<typeof loadBetterSqlite3>> | undefined;
    try {
      loaded = await loadBetterSqlite3();
    } catch (error) {
      if (!isModuleNotFound(error)) throw error;
      if (choice === "better-sqlite3" || !builtin) throw missing(error);
    }
    if (loaded) {
      const [{ fromBetterSqlite3 }, sqlite] = loaded;
      try {
        new sqlite.default(":memory:").close(); // loads the addon; touches no file
      } catch (error) {
        if (!isAddonUnloadable(error)) throw error;
        if (choice === "better-sqlite3" || !builtin)
          throw new DriverBrokenError(error, builtin !== undefined);
        unloadable = error;
      }
      if (unloadable === undefined) {
        const database = openFile(
          path,
          options,
          () => new sqlite.default(path, { fileMustExist: true }),
          () => new sqlite.default(path),
        );
        return {
          db: fromBetterSqlite3(database),
          close: async () => {
            if (database.open) database.close();
          },
        };
      }
    }
  }
  if (!builtin) {
    throw new UsageError(
      `PQ_SQLITE_DRIVER=node:sqlite, but Node ${process.version} has no node:sqlite: use Node 22.13 or later, or unset PQ_SQLITE_DRIVER to use better-sqlite3.`,
    );
  }
  let fromNodeSqlite: typeof import("@persistent-queue/node-sqlite").fromNodeSqlite;
  try {
    ({ fromNodeSqlite } = await import("@persistent-queue/node-sqlite"));
  } catch (error) {
    if (!isModuleNotFound(error)) throw error;
    // better-sqlite3 is there but broken: rebuilding it is as good an answer as installing this.
    throw unloadable === undefined ? missing(error) : new DriverBrokenError(unloadable, true);
  }
  const open = () => new builtin.DatabaseSync(path);
  const database = openFile(
    path,
    options,
    () => {
      // node:sqlite has no "must exist" flag: look first (a typo must not create a file).
      if (!existsSync(path)) throw new Error("unable to open database file");
      return open();
    },
    open,
  );
  return {
    db: fromNodeSqlite(database),
    close: async () => {
      if (database.isOpen !== false) database.close();
    },
  };
}

/** Opens the file (or creates it for `migrate`); failures say what to check, exit 3. */
function openFile<T>(
  path: string,
  options: OpenDatabaseOptions,
  existing: () => T,
  orCreate: () => T,
): T {
  try {
    return options.createSqliteFile ? orCreate() : existing();
  } catch (cause) {
    throw new DatabaseUnreachableError(
      options.createSqliteFile
        ? `cannot open or create the SQLite file ${path}: ${(cause as Error).message}. Check that its folder exists and is writable.`
        : `no SQLite database at ${path} (${(cause as Error).message}). Check the path, or create the tables there with \`persistent-queue migrate\`.`,
      { cause },
    );
  }
}

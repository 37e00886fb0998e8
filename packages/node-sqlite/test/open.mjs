// Opens the adapter on a conformance target: used by the tests in this
// package and, through `openModule`, by worker processes the tests spawn.
// Loads on Node 20 too, which has no node:sqlite: `missing` then says why.
import { fromNodeSqlite } from "@persistent-queue/node-sqlite";

const sqlite = await import("node:sqlite").catch((err) => err);

/** Why this Node cannot run the adapter's tests (no node:sqlite), or undefined. */
export const missing =
  sqlite instanceof Error
    ? `Node ${process.version} has no node:sqlite (${sqlite.code ?? sqlite.message}); it needs Node 22.13+ or 22.5+ with --experimental-sqlite`
    : undefined;

/** node:sqlite's DatabaseSync, or undefined where `missing` says why. */
export const DatabaseSync = missing ? undefined : sqlite.DatabaseSync;

export async function open(target) {
  if (target.kind !== "sqlite") throw new Error(`node:sqlite does not speak ${target.kind}`);
  if (missing) throw new Error(missing);
  const database = new DatabaseSync(target.path);
  return {
    db: fromNodeSqlite(database),
    close: async () => {
      if (database.isOpen) database.close();
    },
  };
}

// Opens the adapter on a conformance target: used by the tests in this
// package and, through `openModule`, by worker processes the tests spawn.
import { fromBetterSqlite3 } from "@persistent-queue/better-sqlite3";
import Database from "better-sqlite3";

export async function open(target) {
  if (target.kind !== "sqlite") throw new Error(`better-sqlite3 does not speak ${target.kind}`);
  const database = new Database(target.path);
  return {
    db: fromBetterSqlite3(database),
    close: async () => {
      if (database.open) database.close();
    },
  };
}

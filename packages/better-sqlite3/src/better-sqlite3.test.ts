import { describeDbConformance } from "@persistent-queue/testkit";
import Database from "better-sqlite3";
import { fromBetterSqlite3 } from "./index.js";

describeDbConformance({
  adapter: "better-sqlite3",
  kinds: ["sqlite"],
  async open(target) {
    if (target.kind !== "sqlite") throw new Error(`better-sqlite3 does not speak ${target.kind}`);
    const database = new Database(target.path);
    return {
      db: fromBetterSqlite3(database),
      close: async () => {
        if (database.open) database.close();
      },
    };
  },
});

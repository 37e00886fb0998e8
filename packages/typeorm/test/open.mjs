// Opens the adapter on a conformance target: used by the tests in this
// package and, through `openModule`, by worker processes the tests spawn.
import { fromTypeORM } from "@persistent-queue/typeorm";
import { DataSource } from "typeorm";

/** TypeORM DataSource options for a conformance target. */
export function dataSourceOptions(target) {
  if (target.kind === "mariadb") return { type: "mariadb", url: target.url, poolSize: 8 };
  if (target.kind === "postgres") return { type: "postgres", url: target.url, poolSize: 8 };
  // WAL and a busy timeout, as the raw better-sqlite3 adapter sets them: several processes share the file.
  return { type: "better-sqlite3", database: target.path, enableWAL: true, timeout: 5000 };
}

export async function open(target) {
  const dataSource = new DataSource(dataSourceOptions(target));
  await dataSource.initialize();
  return {
    db: fromTypeORM(dataSource),
    close: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
    },
  };
}

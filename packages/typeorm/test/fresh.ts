// A fresh database of each kind, opened as a TypeORM DataSource, for this package's own tests.
import {
  createDatabase,
  createSqliteFile,
  type Target,
  type TargetKind,
} from "@persistent-queue/testkit";
import { DataSource, type DataSourceOptions } from "typeorm";
import { inject } from "vitest";
import { dataSourceOptions } from "./open.mjs";

export const KINDS: readonly TargetKind[] = ["mariadb", "postgres", "sqlite"];

/** A fresh, empty database and a way to drop it. */
export async function freshTarget(
  kind: TargetKind,
): Promise<{ target: Target; drop(): Promise<void> }> {
  if (kind === "sqlite") {
    const file = await createSqliteFile();
    return { target: { kind, path: file.path }, drop: () => file.cleanup() };
  }
  const database = await createDatabase({
    kind,
    url: kind === "mariadb" ? inject("pqMysqlUrl") : inject("pqPgUrl"),
  });
  return { target: { kind, url: database.url }, drop: () => database.drop() };
}

/** An initialized DataSource on a fresh database; `close()` destroys it and drops the database. */
export async function freshDataSource(
  kind: TargetKind,
  extra: Partial<DataSourceOptions> = {},
): Promise<{ dataSource: DataSource; target: Target; close(): Promise<void> }> {
  const { target, drop } = await freshTarget(kind);
  const dataSource = new DataSource({
    ...dataSourceOptions(target),
    ...extra,
  } as DataSourceOptions);
  await dataSource.initialize();
  return {
    dataSource,
    target,
    close: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await drop();
    },
  };
}

// A fresh database of each kind, opened with MikroORM, for this package's own tests.
import type { MikroORM, Options } from "@mikro-orm/core";
import {
  createDatabase,
  createSqliteFile,
  type Target,
  type TargetKind,
} from "@persistent-queue/testkit";
import { inject } from "vitest";
import { openOrm } from "./open.mjs";

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

/** A MikroORM instance on a fresh database; `close()` closes it and drops the database. */
export async function freshOrm(
  kind: TargetKind,
  options: Partial<Options> = {},
): Promise<{ orm: MikroORM; target: Target; close(): Promise<void> }> {
  const { target, drop } = await freshTarget(kind);
  const orm = await openOrm(target, options);
  return {
    orm,
    target,
    close: async () => {
      await orm.close();
      await drop();
    },
  };
}

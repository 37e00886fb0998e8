// A fresh database of one kind on the run's servers, opened with Kysely and
// the adapter; close() drops it. Shared by this package's own tests.
import {
  createDatabase,
  createSqliteFile,
  type Target,
  type TargetKind,
} from "@persistent-queue/testkit";
import type { KyselyConfig, KyselyPlugin } from "kysely";
import { inject } from "vitest";
import { openKysely } from "./open.mjs";

export const KINDS = ["mariadb", "postgres", "sqlite"] as const;

export async function freshKysely<T = unknown>(
  kind: TargetKind,
  options?: { plugins?: KyselyPlugin[]; log?: KyselyConfig["log"] },
) {
  let target: Target;
  let drop: () => Promise<void>;
  if (kind === "sqlite") {
    const file = await createSqliteFile();
    target = { kind, path: file.path };
    drop = file.cleanup;
  } else {
    const database = await createDatabase({
      kind,
      url: kind === "mariadb" ? inject("pqMysqlUrl") : inject("pqPgUrl"),
    });
    target = { kind, url: database.url };
    drop = database.drop;
  }
  const opened = await openKysely<T>(target, options);
  return {
    ...opened,
    target,
    close: async () => {
      try {
        await opened.close();
      } finally {
        await drop();
      }
    },
  };
}

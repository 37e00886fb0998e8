import { inject } from "vitest";
import { createDatabase, createSqliteFile } from "../../databases.js";
import type { AdapterUnderTest, Opened, Target, TargetKind } from "../context.js";

/** A fresh database of `kind` on the run's servers, opened with the adapter; `close()` drops it too. */
export async function openFresh(
  adapter: AdapterUnderTest,
  kind: TargetKind,
): Promise<Opened & { target: Target }> {
  if (kind === "sqlite") {
    const file = await createSqliteFile();
    const target: Target = { kind, path: file.path };
    const opened = await adapter.open(target);
    return {
      db: opened.db,
      target,
      close: async () => {
        try {
          await opened.close();
        } finally {
          await file.cleanup();
        }
      },
    };
  }
  const url =
    adapter.servers?.[kind]?.url() ??
    (kind === "mariadb" ? inject("pqMysqlUrl") : inject("pqPgUrl"));
  const database = await createDatabase({ kind, url });
  const target: Target = { kind, url: database.url };
  const opened = await adapter.open(target);
  return {
    db: opened.db,
    target,
    close: async () => {
      try {
        await opened.close();
      } finally {
        await database.drop();
      }
    },
  };
}

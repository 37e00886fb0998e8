// A fresh database per call, with a PrismaClient and the adapter on it: what
// this package's own tests (beside the conformance suite) start from.
import type { DB } from "@persistent-queue/core";
import { fromPrisma } from "@persistent-queue/prisma";
import {
  createDatabase,
  createSqliteFile,
  type Target,
  type TargetKind,
} from "@persistent-queue/testkit";
import { inject } from "vitest";
import { openClient } from "./open.mjs";

export const KINDS: readonly TargetKind[] = ["mariadb", "postgres", "sqlite"];

export interface Fresh {
  // biome-ignore lint/suspicious/noExplicitAny: the generated client of the target's provider
  readonly prisma: any;
  readonly db: DB;
  readonly target: Target;
  close(): Promise<void>;
}

/** A new empty database of `kind`, a PrismaClient on it, and `fromPrisma(prisma)`. */
export async function fresh(kind: TargetKind): Promise<Fresh> {
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
  const { prisma, pool } = await openClient(target);
  return {
    prisma,
    db: fromPrisma(prisma),
    target,
    async close() {
      await prisma.$disconnect();
      await pool?.end();
      await drop();
    },
  };
}

/** The test-only business table the generated clients map as `Order`. */
export const CREATE_ORDERS =
  "CREATE TABLE orders (id VARCHAR(64) NOT NULL PRIMARY KEY, item VARCHAR(255) NOT NULL)";

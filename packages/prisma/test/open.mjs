// Opens the adapter on a conformance target: used by the tests in this
// package and, through `openModule`, by worker processes the tests spawn.
// The Prisma clients are generated TypeScript (generated/<provider>/client,
// written by `npm run build`), so they are loaded through tsx.
import { fromPg } from "@persistent-queue/pg";
import { fromPrisma } from "@persistent-queue/prisma";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaMariaDb } from "@prisma/adapter-mariadb";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { tsImport } from "tsx/esm/api";

const PROVIDER = { mariadb: "mysql", postgres: "postgresql", sqlite: "sqlite" };

/** The generated PrismaClient class for a target kind. */
export async function clientClass(kind) {
  const module = await tsImport(`../generated/${PROVIDER[kind]}/client/client.ts`, import.meta.url);
  return module.PrismaClient;
}

/** A PrismaClient on the target, the way an application would make one; `pool` is set on postgres. */
export async function openClient(target) {
  const PrismaClient = await clientClass(target.kind);
  if (target.kind === "sqlite") {
    // timeout 0: SQLITE_BUSY at once, retried asynchronously by the adapter (several clients share the file here).
    const adapter = new PrismaBetterSqlite3({ url: `file:${target.path}`, timeout: 0 });
    return { prisma: new PrismaClient({ adapter }) };
  }
  if (target.kind === "mariadb") {
    const url = new URL(target.url);
    const adapter = new PrismaMariaDb({
      host: url.hostname,
      port: Number(url.port),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: url.pathname.slice(1),
      connectionLimit: 8,
    });
    return { prisma: new PrismaClient({ adapter }) };
  }
  const pool = new pg.Pool({ connectionString: target.url, max: 8 });
  return { prisma: new PrismaClient({ adapter: new PrismaPg(pool) }), pool };
}

export async function open(target) {
  const { prisma, pool } = await openClient(target);
  // Prisma cannot LISTEN; on PostgreSQL the pool given to PrismaPg also serves notifications.
  const db = fromPrisma(prisma, pool ? { listen: fromPg(pool).listen } : {});
  let closed = false;
  return {
    db,
    close: async () => {
      if (closed) return;
      closed = true;
      await db.close();
      if (pool && !pool.ended && !pool.ending) await pool.end();
    },
  };
}

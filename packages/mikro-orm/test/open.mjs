// Opens the adapter on a conformance target: used by the tests in this
// package and, through `openModule`, by worker processes the tests spawn.
// One MikroORM driver per database: @mikro-orm/mariadb, @mikro-orm/postgresql, @mikro-orm/sqlite.
// MikroORM 7 needs Node 22.17+, so it is imported only when used: on older Node, the tests skip.
import { fromMikroORM } from "@persistent-queue/mikro-orm";

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
/** Why the MikroORM tests cannot run on this Node, or undefined. */
export const missing =
  major > 22 || (major === 22 && minor >= 17)
    ? undefined
    : `MikroORM 7 needs Node 22.17+, this is ${process.version}`;

/** Opens a MikroORM instance on `target`, with `options` (entities, …) added. */
export async function openOrm(target, options = {}) {
  const common = { discovery: { warnWhenNoEntities: false }, debug: false, ...options };
  if (target.kind === "mariadb") {
    const { MikroORM } = await import("@mikro-orm/mariadb");
    return MikroORM.init({ clientUrl: target.url, pool: { max: 8 }, ...common });
  }
  if (target.kind === "postgres") {
    const { MikroORM } = await import("@mikro-orm/postgresql");
    return MikroORM.init({ clientUrl: target.url, pool: { max: 8 }, ...common });
  }
  const { MikroORM } = await import("@mikro-orm/sqlite");
  const orm = await MikroORM.init({ dbName: target.path, ...common });
  // WAL, as the raw better-sqlite3 adapter sets it: several processes share the file.
  // (better-sqlite3's busy timeout is 5 s by default.)
  await orm.em.getConnection().execute("pragma journal_mode = wal");
  return orm;
}

export async function open(target) {
  const orm = await openOrm(target);
  return { db: fromMikroORM(orm.em), close: () => orm.close() };
}

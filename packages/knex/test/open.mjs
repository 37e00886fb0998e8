// Opens the adapter on a conformance target: used by the tests in this
// package and, through `openModule`, by worker processes the tests spawn.
// One Knex client per database: mysql2 (MariaDB), pg, better-sqlite3.
import { fromKnex } from "@persistent-queue/knex";
import knexFactory from "knex";

/** A Knex instance on `target`; `destroy()` may run twice (db.close() and the test's close). */
export function openKnex(target) {
  if (target.kind === "mariadb")
    return knexFactory({ client: "mysql2", connection: target.url, pool: { min: 0, max: 8 } });
  if (target.kind === "postgres")
    return knexFactory({ client: "pg", connection: target.url, pool: { min: 0, max: 8 } });
  return knexFactory({
    client: "better-sqlite3",
    connection: { filename: target.path },
    useNullAsDefault: true,
  });
}

export async function open(target) {
  const knex = openKnex(target);
  return { db: fromKnex(knex), close: () => knex.destroy() };
}

// Opens the adapter on a conformance target: used by the tests in this
// package and, through `openModule`, by worker processes the tests spawn.
// MariaDB is opened with both of Sequelize's MySQL-family dialects: pass
// `dialect` "mysql" (mysql2) or "mariadb" (the mariadb connector).
import { fromSequelize } from "@persistent-queue/sequelize";
import { Sequelize } from "sequelize";

export async function open(target, dialect = "mariadb") {
  const sequelize = openSequelize(target, dialect);
  let closed = false;
  return {
    db: fromSequelize(sequelize),
    close: async () => {
      if (closed) return;
      closed = true;
      await sequelize.close().catch(() => undefined); // already closed by db.close()
    },
  };
}

/** A Sequelize instance on `target`; the mariadb dialect needs foundRows (see the README). */
export function openSequelize(target, dialect = "mariadb") {
  const common = { logging: false, pool: { max: 8 } };
  if (target.kind === "sqlite")
    return new Sequelize({ ...common, dialect: "sqlite", storage: target.path });
  if (target.kind === "postgres")
    return new Sequelize(target.url, { ...common, dialect: "postgres" });
  const url = new URL(target.url);
  return new Sequelize({
    ...common,
    dialect,
    host: url.hostname,
    port: Number(url.port || 3306),
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password) || undefined,
    database: url.pathname.slice(1),
    dialectOptions: dialect === "mariadb" ? { foundRows: true } : {},
  });
}

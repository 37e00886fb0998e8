import { fileURLToPath } from "node:url";
import {
  type AdapterUnderTest,
  describeDbConformance,
  describeEngineConformance,
} from "@persistent-queue/testkit";
import { open } from "../test/open.mjs";
import { open as openMysql } from "../test/open-mysql.mjs";

const openModule = (file: string) => fileURLToPath(new URL(`../test/${file}`, import.meta.url));

/** The mariadb dialect (mariadb connector) on MariaDB, postgres (pg) and sqlite (sqlite3). */
const adapter: AdapterUnderTest = {
  adapter: "sequelize",
  kinds: ["mariadb", "postgres", "sqlite"],
  open,
  openModule: openModule("open.mjs"),
};

/** Sequelize's mysql dialect (mysql2) on MariaDB: a different driver, FOUND_ROWS off. */
const mysqlDialect: AdapterUnderTest = {
  adapter: "sequelize (mysql dialect)",
  kinds: ["mariadb"],
  open: openMysql,
  openModule: openModule("open-mysql.mjs"),
};

for (const a of [adapter, mysqlDialect]) {
  describeDbConformance(a);
  describeEngineConformance(a);
}

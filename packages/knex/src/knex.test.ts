import { fileURLToPath } from "node:url";
import {
  type AdapterUnderTest,
  describeDbConformance,
  describeEngineConformance,
} from "@persistent-queue/testkit";
import { open } from "../test/open.mjs";

/** Knex's mysql2 client on MariaDB, pg on PostgreSQL, better-sqlite3 on SQLite. */
const adapter: AdapterUnderTest = {
  adapter: "knex",
  kinds: ["mariadb", "postgres", "sqlite"],
  open,
  openModule: fileURLToPath(new URL("../test/open.mjs", import.meta.url)),
};

describeDbConformance(adapter);
describeEngineConformance(adapter);

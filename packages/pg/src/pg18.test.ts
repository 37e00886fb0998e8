// The pg adapter's database and engine conformance on PostgreSQL 18 (the
// npm registry's build, or PQ_PG18_URL), beside pg.test.ts on the run's own
// PostgreSQL (Debian's 15): the same suite, only the server differs.
import { fileURLToPath } from "node:url";
import {
  type AdapterUnderTest,
  describeDbConformance,
  describeEngineConformance,
  usePostgres18,
} from "@persistent-queue/testkit";
import { open } from "../test/open.mjs";

const adapter: AdapterUnderTest = {
  adapter: "pg",
  kinds: ["postgres"],
  servers: { postgres: usePostgres18() },
  open,
  openModule: fileURLToPath(new URL("../test/open.mjs", import.meta.url)),
};

describeDbConformance(adapter);
describeEngineConformance(adapter);

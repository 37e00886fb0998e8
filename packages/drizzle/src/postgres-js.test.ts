// The database conformance of fromDrizzle on drizzle-orm/postgres-js, beside
// drizzle.test.ts's full cells on node-postgres: the statements, results,
// transactions and restarts that differ by driver. Enqueueing inside Drizzle's
// transactions on it is in orm.test.ts.
import { type AdapterUnderTest, describeDbConformance } from "@persistent-queue/testkit";
import { openPostgresJs } from "../test/open.mjs";

const adapter: AdapterUnderTest = {
  adapter: "drizzle (postgres-js)",
  kinds: ["postgres"],
  open: openPostgresJs,
};

describeDbConformance(adapter);

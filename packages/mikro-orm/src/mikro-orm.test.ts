import { fileURLToPath } from "node:url";
import {
  type AdapterUnderTest,
  describeDbConformance,
  describeEngineConformance,
} from "@persistent-queue/testkit";
import { describe } from "vitest";
import { missing, open } from "../test/open.mjs";

const adapter: AdapterUnderTest = {
  adapter: "mikro-orm",
  kinds: ["mariadb", "postgres", "sqlite"],
  open,
  openModule: fileURLToPath(new URL("../test/open.mjs", import.meta.url)),
};

// MikroORM 7 needs Node 22.17+: on older Node every test here is skipped, and the run says why.
if (missing) console.warn(`mikro-orm conformance skipped: ${missing}`);
describe.skipIf(missing !== undefined)(`MikroORM${missing ? ` (skipped: ${missing})` : ""}`, () => {
  describeDbConformance(adapter);
  describeEngineConformance(adapter);
});

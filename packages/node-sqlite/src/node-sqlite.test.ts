import { fileURLToPath } from "node:url";
import {
  type AdapterUnderTest,
  describeDbConformance,
  describeEngineConformance,
  describeEngineScale,
} from "@persistent-queue/testkit";
import { describe } from "vitest";
import { missing, open } from "../test/open.mjs";

const adapter: AdapterUnderTest = {
  adapter: "node-sqlite",
  kinds: ["sqlite"],
  open,
  openModule: fileURLToPath(new URL("../test/open.mjs", import.meta.url)),
  engineTiming: true,
};

// Node 20 has no node:sqlite: every test here is skipped there, and the run says why.
if (missing) console.warn(`node-sqlite conformance skipped: ${missing}`);
describe.skipIf(missing !== undefined)(
  `node:sqlite${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    describeDbConformance(adapter);
    describeEngineConformance(adapter);
    describeEngineScale(adapter);
  },
);

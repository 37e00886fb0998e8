import { fileURLToPath } from "node:url";
import {
  type AdapterUnderTest,
  describeDbConformance,
  describeEngineConformance,
  describeEngineScale,
} from "@persistent-queue/testkit";
import { open } from "../test/open.mjs";

const adapter: AdapterUnderTest = {
  adapter: "postgres.js",
  kinds: ["postgres"],
  open,
  openModule: fileURLToPath(new URL("../test/open.mjs", import.meta.url)),
  engineTiming: true,
};

describeDbConformance(adapter);
describeEngineConformance(adapter);
describeEngineScale(adapter);

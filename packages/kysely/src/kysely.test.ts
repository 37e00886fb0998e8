import { fileURLToPath } from "node:url";
import {
  type AdapterUnderTest,
  describeDbConformance,
  describeEngineConformance,
} from "@persistent-queue/testkit";
import { open } from "../test/open.mjs";

const adapter: AdapterUnderTest = {
  adapter: "kysely",
  kinds: ["mariadb", "postgres", "sqlite"],
  open,
  openModule: fileURLToPath(new URL("../test/open.mjs", import.meta.url)),
};

describeDbConformance(adapter);
describeEngineConformance(adapter);

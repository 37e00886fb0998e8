import {
  type AdapterUnderTest,
  describeDbConformance,
  describeEngineConformance,
} from "@persistent-queue/testkit";
import { open } from "../test/open.mjs";

const adapter: AdapterUnderTest = {
  adapter: "pglite",
  kinds: ["postgres"],
  open,
  // No openModule: worker processes the suite spawns could not reach a database in this one.
  inProcessOnly:
    "PGlite lives in this process, on one connection: no worker processes, server or connections",
};

describeDbConformance(adapter);
describeEngineConformance(adapter);

import { fileURLToPath } from "node:url";
import { resolveDialect } from "@persistent-queue/core/adapter";
import { type AdapterUnderTest, describeEngineConformance } from "@persistent-queue/testkit";
import { describe, expect, inject, it } from "vitest";
import { open } from "../test/open-optimistic.mjs";

// The conformance suite with claims forced to the optimistic mode (no SKIP LOCKED,
// docs/scaling.md "Distributed SQL: claiming without SKIP LOCKED"): the engine groups that
// claim jobs (only: "claims"). The rest of the engine suite, its timing-heavy checks, the
// scale suite and the database conformance (no claim among them) run in mysql2.test.ts only.
const adapter: AdapterUnderTest = {
  adapter: "mysql2 (optimistic claims)",
  kinds: ["mariadb"],
  open,
  openModule: fileURLToPath(new URL("../test/open-optimistic.mjs", import.meta.url)),
};

describe("mysql2 (optimistic claims): the mode is on", () => {
  it("the dialect the queue resolves claims optimistically", async () => {
    const opened = await open({ kind: "mariadb", url: inject("pqMysqlUrl") });
    try {
      expect((await resolveDialect(opened.db)).capabilities.claimLocking).toBe("optimistic");
    } finally {
      await opened.close();
    }
  });
});

describeEngineConformance(adapter, { only: "claims" });

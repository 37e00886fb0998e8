import { fileURLToPath } from "node:url";
import { resolveDialect } from "@persistent-queue/core/adapter";
import { type AdapterUnderTest, describeEngineConformance } from "@persistent-queue/testkit";
import { describe, expect, inject, it } from "vitest";
import { open } from "../test/open-optimistic.mjs";

// The conformance suite with claims forced to the optimistic mode (no SKIP LOCKED,
// docs/scaling.md "Distributed SQL: claiming without SKIP LOCKED"): the engine groups that
// claim jobs (only: "claims"). The rest of the engine suite, its timing-heavy checks, the
// scale suite and the database conformance (no claim among them) run in pg.test.ts only.
const adapter: AdapterUnderTest = {
  adapter: "pg (optimistic claims)",
  kinds: ["postgres"],
  open,
  openModule: fileURLToPath(new URL("../test/open-optimistic.mjs", import.meta.url)),
};

describe("pg (optimistic claims): the mode is on", () => {
  it("the dialect the queue resolves claims optimistically", async () => {
    const opened = await open({ kind: "postgres", url: inject("pqPgUrl") });
    try {
      expect((await resolveDialect(opened.db)).capabilities.claimLocking).toBe("optimistic");
    } finally {
      await opened.close();
    }
  });
});

describeEngineConformance(adapter, { only: "claims" });

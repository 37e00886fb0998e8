import { PGlite } from "@electric-sql/pglite";
import type { PGliteWorker } from "@electric-sql/pglite/worker";
import type { DB } from "@persistent-queue/core";
import { describe, expectTypeOf, it } from "vitest";
import { fromPGlite } from "./index.js";

// Checked by tsc (vitest typecheck), never run: PGlite's real types fit the adapter.
describe("fromPGlite accepts PGlite objects as they are typed", () => {
  it("PGlite, PGlite.create(), a transaction's tx and a PGliteWorker", async () => {
    const pg = new PGlite();
    expectTypeOf(fromPGlite(pg)).toEqualTypeOf<DB>();
    expectTypeOf(fromPGlite(await PGlite.create("./dir"))).toEqualTypeOf<DB>();
    await pg.transaction(async (tx) => expectTypeOf(fromPGlite(tx)).toEqualTypeOf<DB>());
    const worker = {} as PGliteWorker; // made in a browser from a Worker
    expectTypeOf(fromPGlite(worker)).toEqualTypeOf<DB>();
  });
});

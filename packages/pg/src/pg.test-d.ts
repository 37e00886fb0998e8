import type { DB } from "@persistent-queue/core";
import pg from "pg";
import { describe, expectTypeOf, it } from "vitest";
import { fromPg } from "./index.js";

// Checked by tsc (vitest typecheck), never run: the driver's real types fit the adapter.
describe("fromPg accepts node-postgres objects as they are typed", () => {
  it("Pool, Client and a checked-out PoolClient", async () => {
    const pool = new pg.Pool();
    expectTypeOf(fromPg(pool)).toEqualTypeOf<DB>();
    expectTypeOf(fromPg(new pg.Client())).toEqualTypeOf<DB>();
    expectTypeOf(fromPg(await pool.connect(), { inTransaction: true })).toEqualTypeOf<DB>();
  });
});

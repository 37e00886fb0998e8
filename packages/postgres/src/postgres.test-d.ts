import type { DB } from "@persistent-queue/core";
import postgres from "postgres";
import { describe, expectTypeOf, it } from "vitest";
import { fromPostgresJs } from "./index.js";

// Checked by tsc (vitest typecheck), never run: the driver's real types fit the adapter.
describe("fromPostgresJs accepts postgres.js objects as they are typed", () => {
  it("Sql, TransactionSql and ReservedSql", async () => {
    const sql = postgres("postgres://127.0.0.1/x");
    expectTypeOf(fromPostgresJs(sql)).toEqualTypeOf<DB>();
    expectTypeOf(
      fromPostgresJs(postgres({ types: { bigint: postgres.BigInt } })),
    ).toEqualTypeOf<DB>();
    await sql.begin(async (tx) => {
      expectTypeOf(fromPostgresJs(tx)).toEqualTypeOf<DB>();
      await tx.savepoint(async (sp) => expectTypeOf(fromPostgresJs(sp)).toEqualTypeOf<DB>());
    });
    expectTypeOf(fromPostgresJs(await sql.reserve())).toEqualTypeOf<DB>();
  });
});

import type { DB } from "@persistent-queue/core";
import Database from "better-sqlite3";
import { describe, expectTypeOf, it } from "vitest";
import { fromBetterSqlite3 } from "./index.js";

// Checked by tsc (vitest typecheck), never run: the driver's real types fit the adapter.
describe("fromBetterSqlite3 accepts a better-sqlite3 Database as it is typed", () => {
  it("file and in-memory databases", () => {
    expectTypeOf(fromBetterSqlite3(new Database(":memory:"))).toEqualTypeOf<DB>();
    expectTypeOf(
      fromBetterSqlite3(new Database("x.sqlite"), { wal: false, busyTimeoutMs: 100 }),
    ).toEqualTypeOf<DB>();
  });
});

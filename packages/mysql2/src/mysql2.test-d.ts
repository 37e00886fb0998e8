import type { DB } from "@persistent-queue/core";
import mysql from "mysql2/promise";
import { describe, expectTypeOf, it } from "vitest";
import { fromMysql2 } from "./index.js";

// Checked by tsc (vitest typecheck), never run: the driver's real types fit the adapter.
describe("fromMysql2 accepts mysql2/promise objects as they are typed", () => {
  it("Pool, Connection and a PoolConnection", async () => {
    const pool = mysql.createPool("mysql://root@127.0.0.1/x");
    expectTypeOf(fromMysql2(pool)).toEqualTypeOf<DB>();
    expectTypeOf(
      fromMysql2(await mysql.createConnection("mysql://root@127.0.0.1/x")),
    ).toEqualTypeOf<DB>();
    expectTypeOf(
      fromMysql2(await pool.getConnection(), { inTransaction: true }),
    ).toEqualTypeOf<DB>();
  });
});

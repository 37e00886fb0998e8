import { describeDbConformance } from "@persistent-queue/testkit";
import mysql from "mysql2/promise";
import { fromMysql2 } from "./index.js";

describeDbConformance({
  adapter: "mysql2",
  kinds: ["mariadb"],
  async open(target) {
    if (target.kind !== "mariadb") throw new Error(`mysql2 does not speak ${target.kind}`);
    const pool = mysql.createPool({ uri: target.url, connectionLimit: 8 });
    const db = fromMysql2(pool);
    let closed = false;
    return {
      db,
      close: async () => {
        if (closed) return;
        closed = true;
        await pool.end().catch(() => undefined); // may already be ended by db.close()
      },
    };
  },
});

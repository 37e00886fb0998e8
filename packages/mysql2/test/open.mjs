// Opens the adapter on a conformance target: used by the tests in this
// package and, through `openModule`, by worker processes the tests spawn.
import { fromMysql2 } from "@persistent-queue/mysql2";
import mysql from "mysql2/promise";

export async function open(target) {
  if (target.kind !== "mariadb") throw new Error(`mysql2 does not speak ${target.kind}`);
  const pool = mysql.createPool({ uri: target.url, connectionLimit: 8 });
  let ended = false;
  return {
    db: fromMysql2(pool),
    close: async () => {
      if (ended) return;
      ended = true;
      await pool.end().catch(() => undefined); // already ended by db.close()
    },
  };
}

import { describeDbConformance } from "@persistent-queue/testkit";
import pg from "pg";
import { fromPg } from "./index.js";

describeDbConformance({
  adapter: "pg",
  kinds: ["postgres"],
  async open(target) {
    if (target.kind !== "postgres") throw new Error(`pg does not speak ${target.kind}`);
    const pool = new pg.Pool({ connectionString: target.url, max: 8 });
    const db = fromPg(pool);
    let ended = false;
    return {
      db,
      close: async () => {
        if (ended || pool.ended) return;
        ended = true;
        await pool.end();
      },
    };
  },
});

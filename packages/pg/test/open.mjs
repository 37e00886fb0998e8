// Opens the adapter on a conformance target: used by the tests in this
// package and, through `openModule`, by worker processes the tests spawn.
import { fromPg } from "@persistent-queue/pg";
import pg from "pg";

export async function open(target) {
  if (target.kind !== "postgres") throw new Error(`pg does not speak ${target.kind}`);
  const pool = new pg.Pool({ connectionString: target.url, max: 8 });
  return {
    db: fromPg(pool),
    close: async () => {
      if (!pool.ended && !pool.ending) await pool.end();
    },
  };
}

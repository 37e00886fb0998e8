// Opens the adapter on a conformance target: used by the tests in this
// package and, through `openModule`, by worker processes the tests spawn.
import { fromPostgresJs } from "@persistent-queue/postgres";
import postgres from "postgres";

export async function open(target) {
  if (target.kind !== "postgres") throw new Error(`postgres.js does not speak ${target.kind}`);
  // onnotice: the migrations' "already exists, skipping" notices would go to console.log.
  const sql = postgres(target.url, { max: 8, onnotice: () => {} });
  return {
    db: fromPostgresJs(sql),
    close: () => sql.end({ timeout: 5 }),
  };
}

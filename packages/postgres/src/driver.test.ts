// What is particular to postgres.js, beside the shared conformance suite:
// values as the Sql instance parses them, prepared statements as its own
// `prepare` option decides, and multi-host URLs.
import { createServer } from "node:net";
import { JobStatus, PersistentQueue } from "@persistent-queue/core";
import { type CreatedDatabase, createDatabase } from "@persistent-queue/testkit";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { fromPostgresJs } from "./index.js";

let database: CreatedDatabase;
beforeAll(async () => {
  database = await createDatabase({ kind: "postgres", url: inject("pqPgUrl") });
});
afterAll(() => database?.drop());

/** An Sql on the test database, ended after `fn`. */
async function withSql<T>(
  options: postgres.Options<Record<string, postgres.PostgresType>>,
  fn: (sql: postgres.Sql<Record<string, unknown>>) => Promise<T>,
): Promise<T> {
  const sql = postgres(database.url, { max: 1, onnotice: () => {}, ...options });
  try {
    return await fn(sql as postgres.Sql<Record<string, unknown>>);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

describe("values", () => {
  it("int8 as postgres.js gives it: strings by default, bigints made numbers where safe with postgres.BigInt", async () => {
    const text =
      "SELECT 9007199254740993::bigint AS big, 42::bigint AS small, count(*) AS n FROM (VALUES (1), (2)) AS v(x)";
    const strings = await withSql({}, (sql) => fromPostgresJs(sql).query(text));
    expect(strings).toEqual([{ big: "9007199254740993", small: "42", n: "2" }]);
    const bigints = await withSql({ types: { bigint: postgres.BigInt } }, (sql) =>
      fromPostgresJs(sql).query(text),
    );
    expect(bigints).toEqual([{ big: 9007199254740993n, small: 42, n: 2 }]);
  });

  it("binds JSON text, booleans' 1/0 and bigints as node-postgres does, without reconfiguring the Sql", async () => {
    await withSql({}, async (sql) => {
      await sql`SELECT 1`; // connected: postgres.js has added its array types
      const serializers = { ...sql.options.serializers };
      const db = fromPostgresJs(sql);
      const [row] = await db.query(
        "SELECT (SELECT string_agg(a, ',') FROM json_to_recordset($1::json) AS r(a text)) AS a, $2::boolean AS yes, $3::bigint + 1 AS next, $4::text AS s",
        [JSON.stringify([{ a: "x" }, { a: "y" }]), 1, 9007199254740993n, "5"],
      );
      expect(row).toEqual({ a: "x,y", yes: true, next: "9007199254740994", s: "5" });
      expect(sql.options.serializers).toEqual(serializers);
    });
  });
});

describe("prepared statements", () => {
  const prepared = (sql: postgres.Sql<Record<string, unknown>>) =>
    sql.unsafe<{ statement: string }[]>("SELECT statement FROM pg_prepared_statements");
  const probe = "SELECT $1::int + 1 AS n";

  it("are named and reused when the Sql prepares (its default): one round trip after the first", async () => {
    await withSql({}, async (sql) => {
      const db = fromPostgresJs(sql);
      for (let i = 0; i < 3; i++) expect(await db.query(probe, [i])).toEqual([{ n: i + 1 }]);
      const ours = (await prepared(sql)).filter((r) => r.statement === probe);
      expect(ours).toHaveLength(1);
    });
  });

  it("are not named when they bind more than 32 values (lists of jobs, whose text varies)", async () => {
    await withSql({}, async (sql) => {
      const ids = Array.from({ length: 33 }, (_, i) => i);
      const list = `SELECT count(*) AS n FROM generate_series(0, 99) AS s(i) WHERE i IN (${ids.map((i) => `$${i + 1}`).join(", ")})`;
      expect(await fromPostgresJs(sql).query(list, ids)).toEqual([{ n: "33" }]);
      expect((await prepared(sql)).filter((r) => r.statement === list)).toEqual([]);
    });
  });

  it("are never named when the Sql is made with prepare: false (PgBouncer), nor with the adapter's prepare: false", async () => {
    await withSql({ prepare: false }, async (sql) => {
      expect(await fromPostgresJs(sql).query(probe, [1])).toEqual([{ n: 2 }]);
      expect(await prepared(sql)).toEqual([]);
    });
    await withSql({}, async (sql) => {
      expect(await fromPostgresJs(sql, { prepare: false }).query(probe, [1])).toEqual([{ n: 2 }]);
      expect((await prepared(sql)).filter((r) => r.statement === probe)).toEqual([]);
    });
  });
});

describe("a write resolves after its commit, not before (porsager/postgres#1090)", () => {
  // A deferred unique constraint is checked at COMMIT: outside a transaction that is the
  // Sync after the statement, which postgres.js alone does not wait for.
  const table = "pq_commit_probe";
  const insertTwice = `INSERT INTO ${table} (k) VALUES ($1), ($2)`;
  beforeAll(async () => {
    await withSql({}, (sql) =>
      sql.unsafe(
        `CREATE TABLE ${table} (k int, CONSTRAINT ${table}_k UNIQUE (k) DEFERRABLE INITIALLY DEFERRED)`,
      ),
    );
  });

  it("postgres.js alone resolves an INSERT whose commit then fails (if this fails, upstream has fixed it)", async () => {
    await withSql({}, async (sql) => {
      await expect(sql.unsafe(insertTwice, [1, 1])).resolves.toBeDefined();
      expect(await sql.unsafe(`SELECT count(*)::int AS n FROM ${table}`)).toEqual([{ n: 0 }]);
    });
  });

  it("the adapter rejects with the commit's error, and a write that commits is there when it resolves", async () => {
    await withSql({ max: 2 }, async (sql) => {
      const db = fromPostgresJs(sql);
      await expect(db.exec(insertTwice, [2, 2])).rejects.toMatchObject({ code: "23505" });
      expect(await db.exec(insertTwice, [3, 4])).toMatchObject({ affectedRows: 2 });
      expect(await db.query(`SELECT k FROM ${table} ORDER BY k`)).toEqual([{ k: 3 }, { k: 4 }]);
      // The connection it used is back in the pool, outside any transaction.
      const [state] = await sql.unsafe(
        "SELECT count(*)::int AS open FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
      );
      expect(state).toEqual({ open: 0 });
      // In a transaction the statement joins it, and the transaction's COMMIT reports the error.
      await expect(db.transaction((tx) => tx.exec(insertTwice, [5, 5]))).rejects.toMatchObject({
        code: "23505",
      });
    });
  });
});

describe("LISTEN through sql.listen()", () => {
  it("reports postgres.js's reconnect once as a break, then stays quiet; a new subscription hears NOTIFY", async () => {
    const sql = postgres(database.url, { max: 2, onnotice: () => {} });
    const db = fromPostgresJs(sql);
    try {
      const first: string[] = [];
      const breaks: unknown[] = [];
      const unlisten = await db.listen!(
        "pq_probe",
        (p) => first.push(p),
        (e) => breaks.push(e),
      );
      const notify = (payload: string) => db.query("SELECT pg_notify('pq_probe', $1)", [payload]);
      await notify("a");
      await waitUntil(() => first.length === 1);
      await db.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'listen %'",
      );
      await waitUntil(() => breaks.length === 1); // postgres.js listened again by itself
      expect(String(breaks[0])).toMatch(/listened on "pq_probe" again/);
      const second: string[] = [];
      const unlistenSecond = await db.listen!("pq_probe", (p) => second.push(p));
      await notify("b");
      await waitUntil(() => second.length === 1);
      expect(first).toEqual(["a"]); // the broken subscription delivers nothing more
      expect(breaks).toHaveLength(1);
      await unlisten();
      await unlistenSecond();
      await notify("c");
      await new Promise((r) => setTimeout(r, 200));
      expect(second).toEqual(["b"]);
    } finally {
      await db.close();
    }
  });
});

async function waitUntil(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A loopback port nothing listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a multi-host URL with target_session_attrs: "primary"', () => {
  it("whose first host refuses connections runs the queue on the second", {
    timeout: 60_000,
  }, async () => {
    const url = new URL(database.url);
    const multi = `postgres://${url.username}@127.0.0.1:${await closedPort()},${url.host}${url.pathname}`;
    const sql = postgres(multi, { target_session_attrs: "primary", max: 2, onnotice: () => {} });
    const db = fromPostgresJs(sql);
    const queue = new PersistentQueue({
      db,
      serviceName: "multi-host",
      jobs: [{ jobType: 1, handleJob: async () => JobStatus.Success }],
    });
    try {
      const [where] = await db.query<{ port: number }>("SELECT inet_server_port() AS port");
      expect(where?.port).toBe(Number(url.port));
      await queue.migrate();
      await queue.start();
      const id = await queue.add(1, {});
      expect((await queue.waitFor(id, { timeout: "20s" })).status).toBe(JobStatus.Success);
    } finally {
      await queue.stop({ timeoutMs: 1000 });
      await db.close();
    }
  });
});

// The Go library's own statements on a table migrate() upgraded (seed/SEMANTICS.md):
// its loads scan SELECT * into exactly 7 fields, so every column the queue adds must
// be INVISIBLE. MySQL family only: the Go library runs on nothing else.
import { type DB, type Dialect, LATEST_SCHEMA_VERSION, migrate } from "@persistent-queue/core";
import { resolveDialect } from "@persistent-queue/core/adapter";
import { expect, it } from "vitest";
import { type AdapterUnderTest, q, SEED_INSERT, type TargetKind, x } from "../context.js";
import { openFresh } from "./open-target.js";
import { SEED_MYSQL_DDL } from "./schema.js";

/** The 7 fields the Go library scans every loaded row into, in table order. */
export const GO_SCAN_FIELDS = [
  "id",
  "params",
  "job_type",
  "job_status",
  "start_time",
  "create_time",
  "update_time",
] as const;

/** The Go library's loads, verbatim apart from placeholders (`{}`). */
export const GO_LOAD_FIRST =
  "SELECT * FROM async_job_tab WHERE job_status = {} AND create_time >= {} ORDER BY id ASC LIMIT {}";
export const GO_LOAD_NEXT =
  "SELECT * FROM async_job_tab WHERE id > {} OR id IN ({}, {}) ORDER BY id ASC LIMIT {}";
/** The Go library's finish: no check of the previous status. */
export const GO_FINISH = "UPDATE async_job_tab SET job_status = {}, update_time = {} WHERE id = {}";

/** Every row has exactly the 7 fields a Go scan takes, in order (what database/sql checks). */
export function expectGoScannable(rows: Record<string, unknown>[]): void {
  for (const row of rows) expect(Object.keys(row)).toEqual([...GO_SCAN_FIELDS]);
}

/** The columns version 2 added (and version 3 hid). */
const ADDED_V2 = ["attempts", "run_at", "lease_token", "lease_until", "worker_id", "last_error"];
/** Every column the queue adds, up to the newest version: all invisible. */
const ADDED = [
  ...ADDED_V2,
  "priority",
  "unique_key",
  "result",
  "progress",
  "due_ms",
  "unique_live",
  "group_key",
  "trace_context",
];

const invisible = async (db: DB) =>
  (
    await q(
      db,
      "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'async_job_tab' AND EXTRA LIKE '%INVISIBLE%' ORDER BY ORDINAL_POSITION",
    )
  ).map((r) => String(r.name));

/** A DB that reports another server version to `SELECT VERSION()`; every other statement reaches the real server. */
function reportingVersion(db: DB, version: string): DB {
  const wrapped: DB = {
    dialect: db.dialect,
    exec: (sql, params) => db.exec(sql, params),
    query: (async (sql: string, params?: Parameters<DB["query"]>[1]) =>
      /^SELECT VERSION\(\)/i.test(sql) ? [{ v: version }] : db.query(sql, params)) as DB["query"],
    ping: () => db.ping(),
    close: () => db.close(),
  };
  return wrapped;
}

/** migrate() keeps a table the Go library reads working: SELECT * is its 7 columns. */
export function goReaderTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const mysqlOnly = kind !== "mariadb";

  it.skipIf(mysqlOnly)(
    "after migrate() on the Go library's tables, SELECT * is exactly the 7 seed columns and both Go loads return 7-field rows",
    async () => {
      const opened = await openFresh(adapter, kind);
      const { db } = opened;
      try {
        for (const ddl of SEED_MYSQL_DDL) await x(db, ddl);
        await migrate(db);
        expect(await invisible(db)).toEqual(ADDED);
        const now = Math.floor(Date.now() / 1000);
        for (let i = 0; i < 5; i++) await x(db, SEED_INSERT, [`{"i":${i}}`, 7, 0, 0, now, now]);
        // A row the queue itself wrote, with every added column set.
        await x(
          db,
          "UPDATE async_job_tab SET attempts = 2, run_at = 5, lease_token = 't', lease_until = 6, worker_id = 'w', last_error = 'e', group_key = 'g', trace_context = '{\"traceparent\":\"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\"}' WHERE id = 1",
        );
        const all = await q(db, "SELECT * FROM async_job_tab ORDER BY id");
        expect(all).toHaveLength(5);
        expectGoScannable(all);
        const first = await q(db, GO_LOAD_FIRST, [0, now - 7 * 86400, 10000]);
        expect(first.map((r) => Number(r.id))).toEqual([1, 2, 3, 4, 5]);
        expectGoScannable(first);
        const next = await q(db, GO_LOAD_NEXT, [3, 1, 2, 10000]);
        expect(next.map((r) => Number(r.id))).toEqual([1, 2, 4, 5]);
        expectGoScannable(next);
        // The columns are still there for everyone who names them.
        const [named] = await q(db, "SELECT attempts, last_error FROM async_job_tab WHERE id = 1");
        expect(named).toEqual({ attempts: 2, last_error: "e" });
      } finally {
        await opened.close();
      }
    },
  );

  it.skipIf(mysqlOnly)(
    "a table at version 2 is upgraded to invisible columns by migrate(), rows intact; a column made visible again is hidden again",
    async () => {
      const opened = await openFresh(adapter, kind);
      const { db } = opened;
      try {
        expect((await migrate(db, { targetVersion: 2 })).version).toBe(2);
        // Version 2 alone: this is what broke Go loaders.
        expect(await invisible(db)).toEqual([]);
        for (let i = 0; i < 20; i++) {
          await x(db, SEED_INSERT, [
            `{"i":${i}}`,
            1 + (i % 2),
            i % 5,
            0,
            1700000000 + i,
            1700000000 + i,
          ]);
        }
        await x(
          db,
          "UPDATE async_job_tab SET attempts = id, run_at = id * 1000, lease_token = CONCAT('t', id), lease_until = id * 2000, worker_id = 'w', last_error = CONCAT('e', id)",
        );
        const everything = `${GO_SCAN_FIELDS.join(", ")}, ${ADDED_V2.join(", ")}`;
        const before = await q(db, `SELECT ${everything} FROM async_job_tab ORDER BY id`);
        expect(
          Object.keys((await q(db, "SELECT * FROM async_job_tab LIMIT 1"))[0] ?? {}),
        ).toHaveLength(13);

        expect(await migrate(db, { targetVersion: 3 })).toMatchObject({
          applied: [3],
          version: 3,
          warnings: [],
        });
        expect(await invisible(db)).toEqual(ADDED_V2);
        expect(await q(db, `SELECT ${everything} FROM async_job_tab ORDER BY id`)).toEqual(before);
        // The columns of version 4 on (priorities, unique keys, results, groups, trace context)
        // are invisible from the start.
        expect(await migrate(db)).toMatchObject({
          applied: Array.from({ length: LATEST_SCHEMA_VERSION - 3 }, (_, i) => i + 4),
          version: LATEST_SCHEMA_VERSION,
          warnings: [],
        });
        expect(await invisible(db)).toEqual(ADDED);
        expect(await q(db, `SELECT ${everything} FROM async_job_tab ORDER BY id`)).toEqual(before);
        expectGoScannable(await q(db, "SELECT * FROM async_job_tab ORDER BY id"));

        // Someone (a schema sync, a hand edit) makes a column visible again: migrate() hides it.
        const d: Dialect = await resolveDialect(db);
        await x(db, "ALTER TABLE async_job_tab MODIFY COLUMN run_at BIGINT NOT NULL DEFAULT 0");
        await x(db, "ALTER TABLE async_job_tab MODIFY COLUMN priority INT NOT NULL DEFAULT 0");
        expect(await invisible(db)).not.toContain("run_at");
        expect(await invisible(db)).not.toContain("priority");
        expect(d.capabilities.invisibleColumns).toBe(true);
        expect(await migrate(db)).toMatchObject({
          applied: [],
          version: LATEST_SCHEMA_VERSION,
          warnings: [],
        });
        expect(await invisible(db)).toEqual(ADDED);
        expect(await q(db, `SELECT ${everything} FROM async_job_tab ORDER BY id`)).toEqual(before);
      } finally {
        await opened.close();
      }
    },
  );

  it.skipIf(mysqlOnly)(
    "on a server too old for INVISIBLE, migrate() warns that Go readers will break (and logs it)",
    async () => {
      const opened = await openFresh(adapter, kind);
      try {
        // The real server runs every statement; only its version answer is an old MySQL's.
        const old = reportingVersion(opened.db, "8.0.22");
        const logged: unknown[] = [];
        const result = await migrate(old, { logger: { warn: (m: unknown) => logged.push(m) } });
        expect(result.version).toBe(LATEST_SCHEMA_VERSION);
        expect(result.warnings).toHaveLength(1);
        expect(result.warnings[0]).toMatch(/too old for INVISIBLE.*Go.*SELECT \*/);
        expect(logged).toEqual(result.warnings);
        // Nothing was hidden: SELECT * has every added column too, as the warning says.
        expect(await invisible(opened.db)).toEqual([]);
      } finally {
        await opened.close();
      }
    },
  );

  it.skipIf(!mysqlOnly)("elsewhere migrate() has nothing to warn about", async () => {
    const opened = await openFresh(adapter, kind);
    try {
      expect((await migrate(opened.db)).warnings).toEqual([]);
    } finally {
      await opened.close();
    }
  });
}

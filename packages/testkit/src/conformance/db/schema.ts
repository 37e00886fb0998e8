import { fileURLToPath } from "node:url";
import { type DB, LATEST_SCHEMA_VERSION, migrate } from "@persistent-queue/core";
import { describeSchema, resolveDialect } from "@persistent-queue/core/adapter";
import { expect, it } from "vitest";
import { type AdapterUnderTest, q, SEED_INSERT, type TargetKind, x } from "../context.js";
import { openFresh } from "./open-target.js";

/** Every schema version, 1 to the newest. */
const ALL_VERSIONS = Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1);

/** The seed's DDL from its README, verbatim: what a Go-library user already has. */
export const SEED_MYSQL_DDL = [
  `CREATE TABLE \`shedlock_tab\` (
	\`lock_name\` varchar(64) NOT NULL COMMENT 'lock key',
	\`lock_until\` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP COMMENT 'lock expiry time',
	\`locked_at\` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP COMMENT 'lock time',
	\`locked_by\` varchar(255) NOT NULL COMMENT 'who lock',
	PRIMARY KEY (\`lock_name\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE \`async_job_tab\` (
	\`id\` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
	\`params\` varchar(4096) COLLATE utf8mb4_unicode_ci DEFAULT '' NOT NULL,
	\`job_type\` int(11) NOT NULL,
	\`job_status\` tinyint(4) DEFAULT NULL COMMENT '0:init, 1:success, 2:failed, 3:continue, 4:retry',
	\`start_time\` int(11) unsigned DEFAULT '0',
	\`create_time\` int(11) unsigned NOT NULL,
	\`update_time\` int(11) unsigned NOT NULL,
	PRIMARY KEY (\`id\`)
) ENGINE=InnoDB AUTO_INCREMENT=1 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
];

const snapshotPath = (dialect: string) =>
  fileURLToPath(new URL(`../../../snapshots/schema.${dialect}.txt`, import.meta.url));

const SEED_COLUMNS = "id, params, job_type, job_status, start_time, create_time, update_time";
const dump = async (db: DB) => q(db, `SELECT ${SEED_COLUMNS} FROM async_job_tab ORDER BY id`);
const normalise = (rows: Record<string, unknown>[]) =>
  rows.map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])),
  );

/** migrate(): fresh, repeated, concurrent, and upgrading a table the Go library created. */
export function schemaTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  it("creates the schema on an empty database, then does nothing the second time; the schema matches the snapshot", async () => {
    const opened = await openFresh(adapter, kind);
    try {
      expect(await migrate(opened.db)).toEqual({
        applied: ALL_VERSIONS,
        version: LATEST_SCHEMA_VERSION,
        warnings: [],
      });
      expect(await migrate(opened.db)).toEqual({
        applied: [],
        version: LATEST_SCHEMA_VERSION,
        warnings: [],
      });
      const dialect = await resolveDialect(opened.db);
      await expect(await describeSchema(opened.db)).toMatchFileSnapshot(snapshotPath(dialect.name));
    } finally {
      await opened.close();
    }
  });

  it("is safe when several processes migrate at once", { timeout: 60_000 }, async () => {
    const first = await openFresh(adapter, kind);
    const others = await Promise.all([1, 2, 3].map(() => adapter.open(first.target)));
    try {
      const results = await Promise.all(
        [first, ...others].map((o) => migrate(o.db, { tables: { jobs: "race_jobs" } })),
      );
      expect(results.flatMap((r) => r.applied).sort()).toEqual(
        expect.arrayContaining(ALL_VERSIONS),
      );
      for (const r of results) expect(r.version).toBe(LATEST_SCHEMA_VERSION);
      const recorded = await q(
        first.db,
        "SELECT version FROM pq_migrations WHERE scope = {} ORDER BY version",
        ["race_jobs"],
      );
      expect(recorded.map((r) => Number(r.version))).toEqual(ALL_VERSIONS);
      const columns = await q(first.db, "SELECT attempts, run_at, lease_token FROM race_jobs");
      expect(columns).toEqual([]);
    } finally {
      for (const o of others) await o.close();
      await first.close();
    }
  });

  it("upgrades a table created before leases existed without losing or changing a row", async () => {
    const opened = await openFresh(adapter, kind);
    const { db } = opened;
    try {
      const dialect = await resolveDialect(db);
      if (dialect.family === "mysql") {
        for (const ddl of SEED_MYSQL_DDL) await x(db, ddl); // the Go library's own tables
      } else {
        await migrate(db, { targetVersion: 1 }); // this project's first schema version
      }
      for (let i = 0; i < 50; i++) {
        await x(db, SEED_INSERT, [
          JSON.stringify({ i, text: "ü✓" }),
          1 + (i % 3),
          i % 5,
          i % 7 === 0 ? 1700000600 : 0,
          1700000000 + i,
          1700000000 + i,
        ]);
      }
      const before = normalise(await dump(db));
      const result = await migrate(db);
      expect(result.version).toBe(LATEST_SCHEMA_VERSION);
      expect(normalise(await dump(db))).toEqual(before);
      const added = await q(
        db,
        "SELECT COUNT(*) AS n FROM async_job_tab WHERE attempts = 0 AND run_at = 0 AND lease_until = 0 AND lease_token IS NULL AND last_error IS NULL",
      );
      expect(Number(added[0]?.n)).toBe(50);
      const jobControl = await q(
        db,
        "SELECT COUNT(*) AS n FROM async_job_tab WHERE priority = 0 AND unique_key IS NULL AND result IS NULL AND progress IS NULL AND group_key IS NULL",
      );
      expect(Number(jobControl[0]?.n)).toBe(50);
      await expect(await describeSchema(db)).toMatchFileSnapshot(snapshotPath(dialect.name));
      // The seed's plain INSERT still works, and a row inserted without a status is claimable (0).
      await x(db, SEED_INSERT, ["{}", 9, 0, 0, 1, 1]);
      await x(
        db,
        "INSERT INTO async_job_tab (params, job_type, create_time, update_time) VALUES ({}, {}, {}, {})",
        ["{}", 9, 1, 1],
      );
      const statuses = await q(db, "SELECT job_status FROM async_job_tab WHERE job_type = 9");
      expect(statuses.map((r) => Number(r.job_status))).toEqual([0, 0]);
    } finally {
      await opened.close();
    }
  });

  it("rejects table names that are not plain identifiers before touching the database", async () => {
    const opened = await openFresh(adapter, kind);
    try {
      await expect(
        migrate(opened.db, { tables: { jobs: "jobs; DROP TABLE x" } }),
      ).rejects.toMatchObject({
        code: "ERR_PQ_IDENTIFIER",
      });
    } finally {
      await opened.close();
    }
  });
}

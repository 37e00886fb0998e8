import { ConfigError, type DB, JobStatus, migrate, PersistentQueue } from "@persistent-queue/core";
import {
  createDatabase,
  createSqliteFile,
  type Target,
  type TargetKind,
} from "@persistent-queue/testkit";
import { Sequelize, type Transaction } from "sequelize";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { openSequelize } from "../test/open.mjs";
import { fromSequelize } from "./index.js";

type Variant = { name: string; kind: TargetKind; dialect?: "mysql" | "mariadb" };
const VARIANTS: Variant[] = [
  { name: "mariadb dialect", kind: "mariadb", dialect: "mariadb" },
  { name: "mysql dialect (mysql2)", kind: "mariadb", dialect: "mysql" },
  { name: "postgres", kind: "postgres" },
  { name: "sqlite", kind: "sqlite" },
];

const waitFor = async (what: string, check: () => Promise<boolean>, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const makeQueue = (db: DB, ran: number[]) =>
  new PersistentQueue({
    db,
    serviceName: "sequelize-test",
    pollInterval: 50,
    jobs: [{ jobType: 1, handleJob: async (job: { id: number }) => void ran.push(job.id) }],
  });

for (const variant of VARIANTS) {
  describe(`fromSequelize on ${variant.name}`, () => {
    let target: Target;
    let cleanup: () => Promise<void>;
    let sequelize: Sequelize;
    let db: DB;
    const ran: number[] = [];
    let queue: ReturnType<typeof makeQueue>;
    const p = (sql: string) => {
      let n = 0;
      return variant.kind === "postgres" ? sql.replace(/\?/g, () => `$${++n}`) : sql;
    };
    const count = async (sql: string, params: (string | number)[] = []) =>
      Number((await db.query<{ n: unknown }>(p(sql), params))[0]?.n);

    beforeAll(async () => {
      if (variant.kind === "sqlite") {
        const file = await createSqliteFile();
        target = { kind: "sqlite", path: file.path };
        cleanup = file.cleanup;
      } else {
        const url = variant.kind === "mariadb" ? inject("pqMysqlUrl") : inject("pqPgUrl");
        const database = await createDatabase({ kind: variant.kind, url });
        target = { kind: variant.kind, url: database.url } as Target;
        cleanup = database.drop;
      }
      sequelize = openSequelize(target, variant.dialect);
      db = fromSequelize(sequelize);
      await migrate(db);
      await db.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER NOT NULL)");
      queue = makeQueue(db, ran);
      await queue.start();
    });
    afterEach(() => {
      ran.length = 0;
    });
    afterAll(async () => {
      await queue?.stop({ timeoutMs: 1000 });
      await sequelize?.close();
      await cleanup?.();
    });

    const insertOrder = (id: number, t: Transaction) =>
      sequelize.query(p("INSERT INTO orders (id, total) VALUES (?, ?)"), {
        ...(variant.kind === "postgres" ? { bind: [id, 100] } : { replacements: [id, 100] }),
        transaction: t,
      });

    it("sequelize.transaction(fn) committed: the order and its job exist, and the job runs once", async () => {
      const id = await sequelize.transaction(async (t) => {
        await insertOrder(1, t);
        return queue.add(1, { orderId: 1 }, { db: fromSequelize(sequelize, { transaction: t }) });
      });
      expect(await count("SELECT COUNT(*) AS n FROM orders WHERE id = 1")).toBe(1);
      // Completions are batched: the row turns Success just after the handler returns.
      await waitFor(
        "the job to succeed",
        async () => (await queue.getJob(id))?.status === JobStatus.Success,
      );
      await new Promise((r) => setTimeout(r, 200));
      expect(ran).toEqual([id]);
    });

    it("sequelize.transaction(fn) rolled back: neither the order nor the job exists; nothing runs", async () => {
      let jobId = 0;
      await expect(
        sequelize.transaction(async (t) => {
          await insertOrder(2, t);
          jobId = await queue.add(
            1,
            { orderId: 2 },
            { db: fromSequelize(sequelize, { transaction: t }) },
          );
          throw new Error("payment declined");
        }),
      ).rejects.toThrow("payment declined");
      expect(jobId).toBeGreaterThan(0);
      expect(await count("SELECT COUNT(*) AS n FROM orders WHERE id = 2")).toBe(0);
      expect(
        await count("SELECT COUNT(*) AS n FROM async_job_tab WHERE params = ?", ['{"orderId":2}']),
      ).toBe(0);
      await new Promise((r) => setTimeout(r, 300));
      expect(ran).toEqual([]);
    });

    it("an unmanaged transaction (sequelize.transaction() + commit/rollback) works the same", async () => {
      const rolled = await sequelize.transaction();
      await insertOrder(3, rolled);
      await queue.add(1, { orderId: 3 }, { db: fromSequelize(sequelize, { transaction: rolled }) });
      await rolled.rollback();
      const kept = await sequelize.transaction();
      await insertOrder(4, kept);
      const id = await queue.add(
        1,
        { orderId: 4 },
        { db: fromSequelize(sequelize, { transaction: kept }) },
      );
      await kept.commit();
      await waitFor("the committed job to run", async () => ran.includes(id));
      expect(await count("SELECT COUNT(*) AS n FROM orders WHERE id IN (3, 4)")).toBe(1);
      expect(
        await count("SELECT COUNT(*) AS n FROM async_job_tab WHERE params = ?", ['{"orderId":3}']),
      ).toBe(0);
      expect(ran).toEqual([id]);
    });

    it("a DB bound to a finished transaction refuses statements instead of running them outside it", async () => {
      const t = await sequelize.transaction();
      await t.commit();
      const stale = fromSequelize(sequelize, { transaction: t });
      expect(stale.transaction).toBeUndefined();
      await expect(queue.add(1, { orderId: 5 }, { db: stale })).rejects.toThrow(
        /already finished \(commit\)/,
      );
    });

    it("counts matched rows on UPDATE even when no value changes (Sequelize turns FOUND_ROWS off)", async () => {
      await db.exec(p("INSERT INTO orders (id, total) VALUES (?, ?), (?, ?)"), [10, 5, 11, 5]);
      const same = await db.exec(p("UPDATE orders SET total = ? WHERE id IN (10, 11)"), [5]);
      expect(same.affectedRows).toBe(2);
    });

    it("returns COUNT(*) and BIGINT values as numbers (not BigInt), and the insert id", async () => {
      const [row] = await db.query(
        "SELECT COUNT(*) AS n, CAST(9007199254740991 AS BIGINT) AS big FROM orders".replace(
          "AS BIGINT",
          variant.kind === "mariadb" ? "AS SIGNED" : "AS BIGINT",
        ),
      );
      expect(typeof row?.n === "number" || typeof row?.n === "string").toBe(true);
      expect(typeof row?.n).not.toBe("bigint");
      expect(Number(row?.big)).toBe(Number.MAX_SAFE_INTEGER);
      const inserted = await db.exec(
        p(
          "INSERT INTO async_job_tab (params, job_type, create_time, update_time) VALUES (?, ?, 1, 1)",
        ),
        ["{}", 99],
      );
      if (variant.kind === "postgres") expect(inserted.insertId).toBeUndefined();
      else expect(typeof inserted.insertId).toBe("number");
    });

    it("binds Dates with their milliseconds and bigints exactly", async () => {
      const at = new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 678));
      await db.exec(
        p(
          "INSERT INTO shedlock_tab (lock_name, lock_until, locked_at, locked_by) VALUES (?, ?, ?, ?)",
        ),
        ["ms-probe", at, at, "test"],
      );
      // The bound Date reaches the database with its milliseconds (Sequelize's own mysql dialect drops them).
      const offsetSql: Record<TargetKind, string> = {
        mariadb: "SELECT TIMESTAMPDIFF(MICROSECOND, '2030-01-02 03:04:05', ?) AS n",
        postgres:
          "SELECT EXTRACT(EPOCH FROM ($1::timestamptz - '2030-01-02 03:04:05+00')) * 1000000 AS n",
        // julianday() is a float: round to ms
        sqlite:
          "SELECT CAST(ROUND((julianday(?) - julianday('2030-01-02 03:04:05')) * 86400000) AS INTEGER) * 1000 AS n",
      };
      expect(await count(offsetSql[variant.kind], [at as unknown as string])).toBe(678000);
      await db.exec(
        p(
          "INSERT INTO async_job_tab (params, job_type, create_time, update_time) VALUES (?, ?, 1, 1)",
        ),
        ["{}", 98],
      );
      await db.exec(p("UPDATE async_job_tab SET run_at = ? WHERE job_type = 98"), [1764000000123n]);
      expect(
        await count("SELECT COUNT(*) AS n FROM async_job_tab WHERE run_at = 1764000000123"),
      ).toBe(1);
      if (variant.kind === "sqlite") {
        const [row] = await db.query(
          "SELECT lock_until AS v, typeof(lock_until) AS t FROM shedlock_tab",
        );
        expect(row).toEqual({ v: "2030-01-02 03:04:05.678", t: "text" });
      }
    });
  });
}

describe("fromSequelize configuration", () => {
  it("refuses the mariadb dialect without foundRows, saying what to set", async () => {
    const sequelize = new Sequelize({ dialect: "mariadb", logging: false });
    expect(() => fromSequelize(sequelize)).toThrow(ConfigError);
    expect(() => fromSequelize(sequelize)).toThrow(/dialectOptions: \{ foundRows: true \}/);
    await sequelize.close();
  });

  it("sqlite: a DB bound to a transaction works as the very first call on a fresh file", async () => {
    const file = await createSqliteFile();
    const sequelize = openSequelize({ kind: "sqlite", path: file.path });
    try {
      await sequelize.transaction(async (t) => {
        const tx = fromSequelize(sequelize, { transaction: t });
        await tx.exec("CREATE TABLE t (v INTEGER)");
        expect((await tx.exec("INSERT INTO t (v) VALUES (?)", [5])).insertId).toBe(1);
      });
      expect(await fromSequelize(sequelize).query("SELECT v FROM t")).toEqual([{ v: 5 }]);
    } finally {
      await sequelize.close();
      await file.cleanup();
    }
  });

  it("sqlite: root calls made inside transaction(fn) run in it; transactions do not nest", async () => {
    const file = await createSqliteFile();
    const sequelize = openSequelize({ kind: "sqlite", path: file.path });
    const db = fromSequelize(sequelize);
    try {
      await db.transaction!(async (tx) => {
        // The first call on a fresh file is a transaction: WAL is switched on before it begins.
        await tx.exec("CREATE TABLE t (v INTEGER)");
        await tx.exec("INSERT INTO t (v) VALUES (?)", [1]);
        expect(await db.query("SELECT v FROM t")).toEqual([{ v: 1 }]);
        await expect(db.transaction!(async () => 0)).rejects.toThrow(/do not nest/);
      });
      expect(await db.query("SELECT journal_mode AS m FROM pragma_journal_mode")).toEqual([
        { m: "wal" },
      ]);
    } finally {
      await sequelize.close();
      await file.cleanup();
    }
  });
});

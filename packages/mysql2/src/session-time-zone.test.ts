// The database clock and the lock table on a session whose time zone has DST.
// One mysql2 connection, not a pool: `SET time_zone` and MariaDB's `SET timestamp`
// (a faked clock for this session) are session settings. The instants are around
// the end of summer time in Europe/Berlin on 2022-10-30, when local 02:00-03:00
// happens twice: 00:00-01:00 UTC as CEST, 01:00-02:00 UTC as CET.
import {
  type DB,
  defineJob,
  JobStatus,
  migrate,
  PersistentQueue,
  ShedLock,
} from "@persistent-queue/core";
import { resolveDialect } from "@persistent-queue/core/adapter";
import { createDatabase } from "@persistent-queue/testkit";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { fromMysql2 } from "./index.js";

/** Unix seconds of a UTC wall time on 2022-10-30. */
const utc = (hhmmss: string) => Date.parse(`2022-10-30T${hhmmss}Z`) / 1000;

describe("mysql2 on MariaDB, a session in a DST zone or at a fixed offset", () => {
  let conn: mysql.Connection;
  let db: DB;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createDatabase({ kind: "mariadb", url: inject("pqMysqlUrl") });
    drop = database.drop;
    conn = await mysql.createConnection({ uri: database.url });
    db = fromMysql2(conn);
    await migrate(db);
    const [rows] = await conn.query(
      "SELECT CONVERT_TZ('2022-10-30 01:30:00', '+00:00', 'Europe/Berlin') AS t",
    );
    if ((rows as { t: unknown }[])[0]?.t === null)
      throw new Error(
        "the server has no time zone tables (testkit loads them into the MariaDB it starts): " +
          "mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb -u root mysql",
      );
  });
  afterAll(async () => {
    await conn?.end();
    await drop?.();
  });

  /** Fakes this session's clock (fractional seconds allowed) and sets its zone. */
  const at = async (zone: string, unixSeconds: number) => {
    await conn.query("SET time_zone = ?", [zone]);
    await conn.query(`SET timestamp = ${unixSeconds.toFixed(6)}`);
  };
  const local = async () => {
    const [rows] = await conn.query("SELECT DATE_FORMAT(NOW(), '%H:%i:%s') AS t");
    return (rows as { t: string }[])[0]?.t;
  };
  const lockUntil = async (name: string) => {
    const [rows] = await conn.query(
      "SELECT UNIX_TIMESTAMP(lock_until) AS u FROM shedlock_tab WHERE lock_name = ?",
      [name],
    );
    return Number((rows as { u: unknown }[])[0]?.u);
  };

  it("the dialect's nowMs and nowSec are the real instant in both passes of the repeated hour, in Berlin and at +05:30", async () => {
    const d = await resolveDialect(db);
    for (const zone of ["Europe/Berlin", "+05:30"]) {
      for (const instant of [utc("00:30:00.123"), utc("01:30:00.123")]) {
        await at(zone, instant);
        const [rows] = await conn.query(`SELECT ${d.nowMs} AS ms, ${d.nowSec} AS s`);
        const row = (rows as { ms: unknown; s: unknown }[])[0];
        expect([zone, Number(row?.ms)]).toEqual([zone, Math.round(instant * 1000)]);
        expect([zone, Number(row?.s)]).toEqual([zone, Math.floor(instant)]);
      }
    }
    // The session really was in the fold: both instants read 02:30 on Berlin's wall clock.
    await at("Europe/Berlin", utc("00:30:00"));
    expect(await local()).toBe("02:30:00");
    await at("Europe/Berlin", utc("01:30:00"));
    expect(await local()).toBe("02:30:00");
  });

  it("ShedLock judges locks by real instants across the fold in Berlin", async () => {
    const a = new ShedLock({ db, serviceName: "a" });
    const b = new ShedLock({ db, serviceName: "b" });
    // Released at 00:50 UTC (02:50 CEST): free 20 minutes later, at 01:10 UTC (02:10 CET).
    await at("Europe/Berlin", utc("00:50:00"));
    expect(await a.tryLock("released", { lockAtMostFor: "30s" })).toBe(true);
    expect(await a.unlock("released")).toBe(true);
    await at("Europe/Berlin", utc("01:10:00"));
    expect(await b.tryLock("released", { lockAtMostFor: "30s" })).toBe(true);

    // Taken for 30 s at 00:59:50 UTC, just before the clocks go back; its holder dies.
    // A minute later it is free (stored as 30-32 s, not an hour and 30 s).
    await at("Europe/Berlin", utc("00:59:50"));
    expect(await a.tryLock("dead holder", { lockAtMostFor: "30s" })).toBe(true);
    expect((await lockUntil("dead holder")) - utc("00:59:50")).toBeLessThanOrEqual(32);
    await at("Europe/Berlin", utc("01:01:00"));
    expect(await b.tryLock("dead holder", { lockAtMostFor: "30s" })).toBe(true);

    // Taken for 30 s at 01:30 UTC (02:30 CET, the second pass): stored 30-32 s ahead, so a
    // session in another zone (the Go library's, say) sees it held too; and held here.
    await at("Europe/Berlin", utc("01:30:00"));
    expect(await a.tryLock("second pass", { lockAtMostFor: "30s" })).toBe(true);
    const ahead = (await lockUntil("second pass")) - utc("01:30:00");
    expect(ahead).toBeGreaterThanOrEqual(30);
    expect(ahead).toBeLessThanOrEqual(32);
    await at("Europe/Berlin", utc("01:30:10"));
    expect(await b.tryLock("second pass", { lockAtMostFor: "30s" })).toBe(false);
    expect(await a.holder("second pass")).toBe(a.lockedBy);
    await at("+00:00", utc("01:30:10"));
    expect(await b.tryLock("second pass", { lockAtMostFor: "30s" })).toBe(false);
  });

  it("a queue on a Berlin session in the repeated hour runs a job under a lease measured from the real instant", async () => {
    const now = utc("01:30:00.250");
    await at("Europe/Berlin", now);
    let release!: () => void;
    const running = new Promise<void>((r) => (release = r));
    let started = 0;
    const job = defineJob({
      jobType: 41,
      leaseTime: "30s",
      handleJob: async () => {
        started++;
        await running;
      },
    });
    const queue = new PersistentQueue({ db, serviceName: "fold", jobs: [job], pollInterval: 50 });
    try {
      await queue.start();
      const id = await queue.add(41, {});
      const leased = async () => {
        const [rows] = await conn.query("SELECT lease_until FROM async_job_tab WHERE id = ?", [id]);
        return Number((rows as { lease_until: unknown }[])[0]?.lease_until);
      };
      const deadline = Date.now() + 15_000;
      while ((await leased()) === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      // The lease ends 30 s after the real instant, not 30 s after an instant an hour
      // earlier (which any session not in Berlin, and this one after 02:00 UTC, sees as expired).
      expect((await leased()) - Math.round(now * 1000)).toBe(30_000);
      release();
      const deadline2 = Date.now() + 15_000;
      let record = await queue.getJob(id);
      while (record?.status !== JobStatus.Success && Date.now() < deadline2) {
        await new Promise((r) => setTimeout(r, 20));
        record = await queue.getJob(id);
      }
      expect(record).toMatchObject({ status: JobStatus.Success, attempts: 1 });
      expect(started).toBe(1);
    } finally {
      release();
      await queue.stop({ timeoutMs: 2000 });
    }
  });
});

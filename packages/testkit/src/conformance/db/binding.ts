import { expect, it } from "vitest";
import { type AdapterUnderTest, q, SEED_INSERT, type TargetKind, x } from "../context.js";
import { useMigratedDatabase } from "../fixture.js";

/** Parameters of every type core binds reach the database intact, and results come back readable. */
export function bindingTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  const insertJob = (params: string, jobType: number) =>
    x(fx.db, SEED_INSERT, [params, jobType, 0, 0, 1700000000, 1700000000]);
  const lastId = async () =>
    Number((await q<{ id: unknown }>(fx.db, "SELECT MAX(id) AS id FROM async_job_tab"))[0]?.id);

  it("binds strings and JSON text byte for byte, unicode included", async () => {
    const text = JSON.stringify({
      orderId: 42,
      note: "naïve ✓ 🚀 中文",
      quote: `it's "quoted" \\ back`,
    });
    await insertJob(text, 1);
    const [row] = await q<{ params: unknown }>(
      fx.db,
      "SELECT params FROM async_job_tab WHERE id = {}",
      [await lastId()],
    );
    expect(row?.params).toBe(text);
    expect(JSON.parse(String(row?.params))).toMatchObject({ orderId: 42 });
  });

  it("binds numbers and bigints; integer columns read back as the same value", async () => {
    await insertJob("{}", 2147483647);
    const id = await lastId();
    await x(fx.db, "UPDATE async_job_tab SET run_at = {}, lease_until = {} WHERE id = {}", [
      1764000000123n,
      Number.MAX_SAFE_INTEGER,
      id,
    ]);
    const [row] = await q(
      fx.db,
      "SELECT job_type, run_at, lease_until FROM async_job_tab WHERE id = {}",
      [id],
    );
    expect(Number(row?.job_type)).toBe(2147483647);
    expect(Number(row?.run_at)).toBe(1764000000123);
    expect(BigInt(String(row?.lease_until))).toBe(BigInt(Number.MAX_SAFE_INTEGER));
  });

  it("binds null, and an IS NULL filter sees it", async () => {
    await insertJob("{}", 3);
    const id = await lastId();
    await x(fx.db, "UPDATE async_job_tab SET worker_id = {}, last_error = {} WHERE id = {}", [
      null,
      "boom",
      id,
    ]);
    const [row] = await q(
      fx.db,
      "SELECT COUNT(*) AS n FROM async_job_tab WHERE id = {} AND worker_id IS NULL AND last_error = {}",
      [id, "boom"],
    );
    expect(Number(row?.n)).toBe(1);
  });

  it("binds a Date as an instant: it compares correctly with other Dates in the database", async () => {
    const until = new Date(Date.UTC(2030, 0, 2, 3, 4, 5));
    await x(
      fx.db,
      "INSERT INTO shedlock_tab (lock_name, lock_until, locked_at, locked_by) VALUES ({}, {}, {}, {})",
      ["binding-date", until, new Date(until.getTime() - 60_000), "conformance"],
    );
    const count = async (from: Date, to: Date) =>
      Number(
        (
          await q(
            fx.db,
            "SELECT COUNT(*) AS n FROM shedlock_tab WHERE lock_name = {} AND lock_until > {} AND lock_until < {}",
            ["binding-date", from, to],
          )
        )[0]?.n,
      );
    expect(await count(new Date(until.getTime() - 2000), new Date(until.getTime() + 2000))).toBe(1);
    expect(await count(new Date(until.getTime() + 2000), new Date(until.getTime() + 9000))).toBe(0);
  });

  it("reports the generated id of an INSERT where the database has one (mysql, sqlite); PostgreSQL uses RETURNING", async () => {
    const result = await insertJob("{}", 4);
    if (kind === "postgres") {
      expect(result.insertId).toBeUndefined();
      const [row] = await q<{ id: unknown }>(
        fx.db,
        "INSERT INTO async_job_tab (params, job_type, job_status, start_time, create_time, update_time) VALUES ({}, {}, 0, 0, 1, 1) RETURNING id",
        ["{}", 4],
      );
      expect(Number(row?.id)).toBe(await lastId());
    } else {
      expect(Number(result.insertId)).toBe(await lastId());
    }
  });

  it("counts matched rows as affected, also when no value changed (the lease fence relies on it)", async () => {
    for (let i = 0; i < 3; i++) await insertJob("{}", 77);
    const changed = await x(
      fx.db,
      "UPDATE async_job_tab SET job_status = {} WHERE job_type = {}",
      [0, 77],
    );
    expect(changed.affectedRows).toBe(3);
    const none = await x(
      fx.db,
      "UPDATE async_job_tab SET job_status = {} WHERE job_type = {}",
      [0, -77],
    );
    expect(none.affectedRows).toBe(0);
    const deleted = await x(fx.db, "DELETE FROM async_job_tab WHERE job_type = {}", [77]);
    expect(deleted.affectedRows).toBe(3);
  });
}

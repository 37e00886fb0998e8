import type { DB } from "@persistent-queue/core";
import { expect, it } from "vitest";
import { type AdapterUnderTest, q, SEED_INSERT, type TargetKind, x } from "../context.js";
import { useMigratedDatabase } from "../fixture.js";

/** `transaction(fn)` commits what `fn` wrote when it resolves and nothing when it throws. */
export function transactionTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  const countType = async (jobType: number) =>
    Number(
      (await q(fx.db, "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = {}", [jobType]))[0]
        ?.n,
    );
  const insertVia = (tx: DB, jobType: number) => x(tx, SEED_INSERT, ["{}", jobType, 0, 0, 1, 1]);

  it("offers transaction() on a root connection", () => {
    expect(typeof fx.db.transaction).toBe("function");
  });

  it("commits every statement of fn when it resolves, and returns its value", async () => {
    const value = await fx.db.transaction!(async (tx) => {
      await insertVia(tx, 501);
      await insertVia(tx, 501);
      return "done";
    });
    expect(value).toBe("done");
    expect(await countType(501)).toBe(2);
  });

  it("rolls back every statement of fn when it throws, and rethrows the same error", async () => {
    const failure = new Error("business rule broken");
    await expect(
      fx.db.transaction!(async (tx) => {
        await insertVia(tx, 502);
        await x(tx, "UPDATE async_job_tab SET job_status = 2 WHERE job_type = {}", [501]);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await countType(502)).toBe(0);
    expect(
      Number(
        (
          await q(
            fx.db,
            "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = 501 AND job_status = 2",
          )
        )[0]?.n,
      ),
    ).toBe(0);
  });

  it("a transaction-bound DB offers no nested transaction and close() leaves the transaction alone", async () => {
    await fx.db.transaction!(async (tx) => {
      expect(tx.transaction).toBeUndefined();
      await tx.close();
      await insertVia(tx, 503);
    });
    expect(await countType(503)).toBe(1);
  });

  it("keeps uncommitted writes invisible to other connections until commit", async () => {
    if (kind === "sqlite" || adapter.inProcessOnly !== undefined) {
      // One connection per file handle (or per in-process database, PGlite): other calls on it
      // wait for the transaction. Checked below instead.
      let outsideDone = false;
      const outside = fx.db.transaction!(async (tx) => {
        await insertVia(tx, 504);
        const pending = countType(504).then((n) => {
          outsideDone = true;
          return n;
        });
        await new Promise((r) => setTimeout(r, 50));
        expect(outsideDone).toBe(true); // called from inside fn: runs in the transaction, sees its write
        return pending;
      });
      expect(await outside).toBe(1);
      return;
    }
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inside!: () => void;
    const written = new Promise<void>((r) => (inside = r));
    const tx = fx.db.transaction!(async (t) => {
      await insertVia(t, 504);
      inside();
      await gate;
    });
    await written;
    expect(await countType(504)).toBe(0);
    release();
    await tx;
    expect(await countType(504)).toBe(1);
  });
}

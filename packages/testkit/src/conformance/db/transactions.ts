import { type DB, migrate } from "@persistent-queue/core";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type AdapterUnderTest,
  type Opened,
  q,
  SEED_INSERT,
  type TargetKind,
  x,
} from "../context.js";
import { openFresh } from "./open-target.js";

/** `transaction(fn)` commits what `fn` wrote when it resolves and nothing when it throws. */
export function transactionTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  let opened: Opened;
  let db: DB;
  beforeAll(async () => {
    opened = await openFresh(adapter, kind);
    db = opened.db;
    await migrate(db);
  });
  afterAll(() => opened?.close());

  const countType = async (jobType: number) =>
    Number(
      (await q(db, "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = {}", [jobType]))[0]?.n,
    );
  const insertVia = (tx: DB, jobType: number) => x(tx, SEED_INSERT, ["{}", jobType, 0, 0, 1, 1]);

  it("offers transaction() on a root connection", () => {
    expect(typeof db.transaction).toBe("function");
  });

  it("commits every statement of fn when it resolves, and returns its value", async () => {
    const value = await db.transaction!(async (tx) => {
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
      db.transaction!(async (tx) => {
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
            db,
            "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = 501 AND job_status = 2",
          )
        )[0]?.n,
      ),
    ).toBe(0);
  });

  it("a transaction-bound DB offers no nested transaction and close() leaves the transaction alone", async () => {
    await db.transaction!(async (tx) => {
      expect(tx.transaction).toBeUndefined();
      await tx.close();
      await insertVia(tx, 503);
    });
    expect(await countType(503)).toBe(1);
  });

  it("keeps uncommitted writes invisible to other connections until commit", async () => {
    if (kind === "sqlite") {
      // One connection per file handle: other calls on it wait for the transaction. Checked below instead.
      let outsideDone = false;
      const outside = db.transaction!(async (tx) => {
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
    const tx = db.transaction!(async (t) => {
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

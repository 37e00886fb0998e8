import { LockNotAcquiredError, ShedLock } from "@persistent-queue/core";
import { expect, it } from "vitest";
import { type AdapterUnderTest, type TargetKind, timingIt } from "../context.js";
import { useMigratedDatabase } from "../fixture.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The seed's ShedLock: one holder at a time, by the database's clock. */
export function shedLockTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  it("one holder at a time; unlock frees it; locked_by names the process", async () => {
    const a = new ShedLock({ db: fx.db, serviceName: "svc-a" });
    const b = new ShedLock({ db: fx.db, serviceName: "svc-b" });
    expect(a.lockedBy).toMatch(new RegExp(`^svc-a-.+-${process.pid}-[0-9a-f]{8}$`));
    expect(a.lockedBy).not.toBe(new ShedLock({ db: fx.db, serviceName: "svc-a" }).lockedBy);
    expect(await a.tryLock("report")).toBe(true);
    expect(await b.tryLock("report")).toBe(false);
    expect(await a.tryLock("report")).toBe(false); // not re-entrant
    expect(await b.holder("report")).toBe(a.lockedBy);
    expect(await a.unlock("report")).toBe(true);
    expect(await b.tryLock("report")).toBe(true);
    expect(await a.unlock("report")).toBe(false); // a does not hold it
    await b.unlock("report");
  });

  timingIt(adapter)(
    "an expired lock is taken over; its old holder can no longer extend it",
    {
      timeout: 20_000,
    },
    async () => {
      const a = new ShedLock({ db: fx.db });
      const b = new ShedLock({ db: fx.db });
      // MySQL's TIMESTAMP keeps whole seconds, so lock times here are whole seconds too.
      expect(await a.tryLock("expiring", { lockAtMostFor: 1000 })).toBe(true);
      expect(await b.tryLock("expiring")).toBe(false);
      await sleep(2200);
      expect(await b.tryLock("expiring", { lockAtMostFor: "10s" })).toBe(true);
      expect(await a.extend("expiring")).toBe(false);
      expect(await b.extend("expiring", "10s")).toBe(true);
      await b.unlock("expiring");
    },
  );

  timingIt(adapter)(
    "unlock keeps the lock until lockAtLeastFor after it was taken",
    {
      timeout: 20_000,
    },
    async () => {
      const a = new ShedLock({ db: fx.db });
      const b = new ShedLock({ db: fx.db });
      expect(await a.tryLock("least", { lockAtMostFor: "30s", lockAtLeastFor: 2000 })).toBe(true);
      expect(await a.unlock("least")).toBe(true);
      expect(await b.tryLock("least")).toBe(false);
      await sleep(3200);
      expect(await b.tryLock("least")).toBe(true);
      await b.unlock("least");
    },
  );

  timingIt(adapter)(
    "withLock runs fn once in the cluster and keeps the lock alive while it runs",
    {
      timeout: 20_000,
    },
    async () => {
      const a = new ShedLock({ db: fx.db });
      const b = new ShedLock({ db: fx.db });
      let during: boolean | undefined;
      const result = await a.withLock(
        "job",
        async (signal) => {
          await sleep(2500); // longer than lockAtMostFor: only keep-alive holds it
          during = await b.tryLock("job");
          expect(signal.aborted).toBe(false);
          return "ran";
        },
        { lockAtMostFor: 1000 },
      );
      expect(result).toBe("ran");
      expect(during).toBe(false);
      await expect(b.withLock("job", async () => "again")).resolves.toBe("again");
      await a.tryLock("held");
      await expect(b.withLock("held", async () => "never")).rejects.toBeInstanceOf(
        LockNotAcquiredError,
      );
    },
  );

  it("rejects lock names the seed's column cannot hold", async () => {
    const a = new ShedLock({ db: fx.db });
    await expect(a.tryLock("x".repeat(65))).rejects.toMatchObject({ code: "ERR_PQ_CONFIG" });
  });
}

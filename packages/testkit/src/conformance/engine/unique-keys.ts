import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type DB, JobInputError, JobStatus } from "@persistent-queue/core";
import { expect, it } from "vitest";
import { type AdapterUnderTest, q, type TargetKind, x } from "../context.js";
import { useMigratedDatabase } from "../fixture.js";
import { finalRecord, makeQueue } from "./helpers.js";

const ADD_UNIQUE = fileURLToPath(new URL("../../../fixtures/add-unique.mjs", import.meta.url));

/** The rows of `jobType` holding `key`, oldest first. */
async function keyed(db: DB, jobType: number, key: string) {
  return (
    await q(
      db,
      "SELECT id, job_status, params, priority, run_at, attempts FROM async_job_tab WHERE job_type = {} AND unique_key = {} ORDER BY id",
      [jobType, key],
    )
  ).map((r) => ({
    id: Number(r.id),
    status: Number(r.job_status),
    params: JSON.parse(String(r.params)) as unknown,
    priority: Number(r.priority),
    runAt: Number(r.run_at),
    attempts: Number(r.attempts),
  }));
}

/**
 * `add(…, { uniqueKey, onConflict })`: at most one unfinished job per (job
 * type, key), enforced by the unique index, also across connections and
 * processes, inside transactions and in `addMany()`.
 */
export function uniqueKeyTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  it("keep: a second add with the key inserts nothing and resolves the first job's id; another key or type inserts", async () => {
    const queue = makeQueue(fx.db, []);
    const first = await queue.add(1101, { n: 1 }, { uniqueKey: "order-42" });
    const again = await queue.add(1101, { n: 2 }, { uniqueKey: "order-42", onConflict: "keep" });
    const other = await queue.add(1101, { n: 3 }, { uniqueKey: "order-43" });
    const otherType = await queue.add(1102, { n: 4 }, { uniqueKey: "order-42" });
    const plain = await queue.add(1101, { n: 5 });
    expect(again).toBe(first);
    expect(new Set([first, other, otherType, plain]).size).toBe(4);
    expect(await keyed(fx.db, 1101, "order-42")).toMatchObject([{ id: first, params: { n: 1 } }]);
    // PostgreSQL and SQLite compare keys exactly; MySQL/MariaDB by the table's collation
    // (utf8mb4_unicode_ci: case-insensitive, trailing spaces ignored). See docs/unique.md.
    const upper = await queue.add(1101, { n: 6 }, { uniqueKey: "ORDER-42" });
    const spaced = await queue.add(1101, { n: 7 }, { uniqueKey: "order-42 " });
    if (kind === "mariadb") expect([upper, spaced]).toEqual([first, first]);
    else expect(new Set([first, upper, spaced]).size).toBe(3);
  });

  it("replace: a job not started takes the new params, due time and priority; once started it is kept", async () => {
    const queue = makeQueue(fx.db, []);
    const id = await queue.add(1103, { v: 1 }, { uniqueKey: "debounce", delay: "1h" });
    const [before] = await keyed(fx.db, 1103, "debounce");
    const replaced = await queue.add(
      1103,
      { v: 2 },
      { uniqueKey: "debounce", onConflict: "replace", delay: "2h", priority: -5 },
    );
    expect(replaced).toBe(id);
    const [after] = await keyed(fx.db, 1103, "debounce");
    expect(after).toMatchObject({ id, status: JobStatus.Init, params: { v: 2 }, priority: -5 });
    expect(after!.runAt - before!.runAt).toBeGreaterThan(3_000_000); // about an hour later
    expect(after!.runAt - before!.runAt).toBeLessThan(4_000_000);

    // Run once and waiting to retry: started, so "replace" keeps it as it is.
    await x(fx.db, "UPDATE async_job_tab SET job_status = {}, attempts = 1 WHERE id = {}", [
      JobStatus.Retry,
      id,
    ]);
    expect(await queue.add(1103, { v: 3 }, { uniqueKey: "debounce", onConflict: "replace" })).toBe(
      id,
    );
    // Running: kept too.
    await x(fx.db, "UPDATE async_job_tab SET job_status = {} WHERE id = {}", [
      JobStatus.Running,
      id,
    ]);
    expect(await queue.add(1103, { v: 4 }, { uniqueKey: "debounce", onConflict: "replace" })).toBe(
      id,
    );
    expect(await keyed(fx.db, 1103, "debounce")).toMatchObject([
      { id, status: JobStatus.Running, params: { v: 2 }, priority: -5 },
    ]);
  });

  it("the key is free again once its job succeeded, failed or was cancelled", async () => {
    const queue = fx.track(
      makeQueue(fx.db, [
        {
          jobType: 1104,
          handleJob: async (job) => {
            if ((job.params as { fail?: boolean }).fail) throw new Error("no");
          },
        },
      ]),
    );
    await queue.start();
    const first = await queue.add(1104, { fail: false }, { uniqueKey: "k" });
    expect((await finalRecord(queue, first)).status).toBe(JobStatus.Success);
    const second = await queue.add(1104, { fail: true }, { uniqueKey: "k" });
    expect(second).not.toBe(first);
    expect((await finalRecord(queue, second)).status).toBe(JobStatus.Failed);
    await queue.stop();
    const producer = makeQueue(fx.db, []);
    const waiting = await producer.add(1104, { fail: false }, { uniqueKey: "k" });
    expect(new Set([first, second, waiting]).size).toBe(3);
    expect(await producer.add(1104, {}, { uniqueKey: "k" })).toBe(waiting);
    expect(await producer.cancel(waiting)).toBe(true);
    const afterCancel = await producer.add(1104, {}, { uniqueKey: "k" });
    expect(afterCancel).not.toBe(waiting);
    expect((await keyed(fx.db, 1104, "k")).map((r) => r.status)).toEqual([
      JobStatus.Success,
      JobStatus.Failed,
      JobStatus.Cancelled,
      JobStatus.Init,
    ]);
  });

  it("inside a transaction: rolled back, the key stays free; committed, it holds; a repeat in it resolves the same id", async () => {
    if (!fx.db.transaction) throw new Error(`${adapter.adapter} offers no transaction()`);
    const queue = makeQueue(fx.db, []);
    await expect(
      fx.db.transaction(async (tx) => {
        const a = await queue.add(1105, { n: 1 }, { uniqueKey: "tx", db: tx });
        expect(await queue.add(1105, { n: 2 }, { uniqueKey: "tx", db: tx })).toBe(a);
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await keyed(fx.db, 1105, "tx")).toEqual([]);
    const committed = await fx.db.transaction(async (tx) => {
      const a = await queue.add(1105, { n: 3 }, { uniqueKey: "tx", db: tx });
      const b = await queue.add(1105, { n: 4 }, { uniqueKey: "tx", onConflict: "replace", db: tx });
      expect(b).toBe(a);
      return a;
    });
    expect(await queue.add(1105, { n: 5 }, { uniqueKey: "tx" })).toBe(committed);
    expect(await keyed(fx.db, 1105, "tx")).toMatchObject([{ id: committed, params: { n: 4 } }]);
  });

  it("addMany: ids in input order; jobs with one key in a batch resolve to one id, replace's last params win", async () => {
    const queue = makeQueue(fx.db, []);
    const existing = await queue.add(1106, { n: 0 }, { uniqueKey: "a" });
    const ids = await queue.addMany([
      { jobType: 1106, params: { n: 1 } },
      { jobType: 1106, params: { n: 2 }, uniqueKey: "a" },
      { jobType: 1106, params: { n: 3 }, uniqueKey: "b" },
      { jobType: 1106, params: { n: 4 } },
      { jobType: 1106, params: { n: 5 }, uniqueKey: "b" },
      { jobType: 1106, params: { n: 6 }, uniqueKey: "c" },
      { jobType: 1106, params: { n: 7 }, uniqueKey: "c", onConflict: "replace" },
      { jobType: 1106, params: { n: 8 } },
    ]);
    expect(ids).toHaveLength(8);
    expect(ids[1]).toBe(existing);
    expect(ids[4]).toBe(ids[2]);
    expect(ids[6]).toBe(ids[5]);
    const fresh = [ids[0], ids[2], ids[3], ids[5], ids[7]] as number[];
    expect(fresh).toEqual([...fresh].sort((a, b) => a - b)); // inserted in input order
    expect(new Set([existing, ...fresh]).size).toBe(6);
    const rows = await q(fx.db, "SELECT id, params FROM async_job_tab WHERE job_type = 1106");
    const params = new Map(rows.map((r) => [Number(r.id), JSON.parse(String(r.params))]));
    expect(params.size).toBe(6);
    expect(params.get(existing)).toEqual({ n: 0 });
    expect(params.get(ids[2]!)).toEqual({ n: 3 });
    expect(params.get(ids[5]!)).toEqual({ n: 7 });
    expect(params.get(ids[7]!)).toEqual({ n: 8 });
  });

  it("bad uniqueKey or onConflict: a typed JobInputError naming the field, nothing inserted", async () => {
    const queue = makeQueue(fx.db, []);
    const cases: [Record<string, unknown>, string][] = [
      [{ uniqueKey: "" }, "uniqueKey"],
      [{ uniqueKey: "x".repeat(256) }, "uniqueKey"],
      [{ uniqueKey: 42 }, "uniqueKey"],
      [{ uniqueKey: "k", onConflict: "update" }, "onConflict"],
      [{ onConflict: "keep" }, "onConflict"],
    ];
    for (const [opts, field] of cases) {
      const err = await queue.add(1107, {}, opts as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JobInputError);
      expect((err as JobInputError).field).toBe(field);
    }
    const err = await queue
      .addMany([
        { jobType: 1107, params: {}, uniqueKey: "fine" },
        { jobType: 1107, params: {}, uniqueKey: "" },
      ])
      .catch((e: unknown) => e);
    expect((err as JobInputError).field).toBe("jobs[1].uniqueKey");
    expect(await q(fx.db, "SELECT id FROM async_job_tab WHERE job_type = 1107")).toEqual([]);
    // 255 characters fit.
    expect(await queue.add(1107, {}, { uniqueKey: "é".repeat(255) })).toBeGreaterThan(0);
  });

  it.runIf(kind === "sqlite")(
    "addSync: keep and replace in a synchronous transaction",
    async (ctx) => {
      if (!fx.db.execSync || !fx.db.querySync) return ctx.skip();
      const queue = makeQueue(fx.db, []);
      await queue.add(1108, {}); // checks the schema once, asynchronously
      const a = queue.addSync(1108, { v: 1 }, { uniqueKey: "s" });
      const b = queue.addSync(1108, { v: 2 }, { uniqueKey: "s", onConflict: "replace" });
      const c = queue.addSync(1108, { v: 3 }, { uniqueKey: "s" });
      expect(b).toBe(a);
      expect(c).toBe(a);
      expect(await keyed(fx.db, 1108, "s")).toMatchObject([{ id: a, params: { v: 2 } }]);
    },
  );

  it("many connections and a second process adding one key at once insert exactly one row", {
    timeout: 60_000,
  }, async () => {
    const jobType = 1109;
    const extra = await Promise.all([1, 2, 3].map(() => adapter.open(fx.target)));
    try {
      const queues = [fx.db, ...extra.map((o) => o.db)].map((db) => makeQueue(db, []));
      for (const queue of queues) await queue.getJob(0); // dialect and schema resolved before the start line
      // Three rounds of the race where the engine's timing is under test; one elsewhere
      // (what an adapter can get wrong, its duplicate-key error, shows in the first).
      const rounds = adapter.engineTiming ? 3 : 1;
      for (let round = 0; round < rounds; round++) {
        const key = `race-${round}`;
        const startAt = Date.now() + 1500;
        const child = adapter.openModule
          ? spawn(
              process.execPath,
              [
                ADD_UNIQUE,
                adapter.openModule,
                JSON.stringify(fx.target),
                String(jobType),
                key,
                "8",
                String(startAt),
              ],
              { stdio: ["ignore", "pipe", "inherit"] },
            )
          : undefined;
        let childOut = "";
        child?.stdout.setEncoding("utf8").on("data", (c: string) => (childOut += c));
        const childDone = child
          ? new Promise<number | null>((r) => child.once("exit", r))
          : Promise.resolve(0);
        await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
        const ours = await Promise.all(
          queues.flatMap((queue, i) =>
            Array.from({ length: 6 }, (_, k) =>
              queue.add(
                jobType,
                { i, k },
                { uniqueKey: key, onConflict: k % 2 ? "replace" : "keep" },
              ),
            ),
          ),
        );
        expect(await childDone).toBe(0);
        const theirs: number[] = child ? JSON.parse(childOut) : [];
        const rows = await keyed(fx.db, jobType, key);
        expect(rows).toHaveLength(1);
        expect(new Set([...ours, ...theirs])).toEqual(new Set([rows[0]!.id]));
        if (child) expect(theirs).toHaveLength(8);
      }
    } finally {
      await Promise.all(extra.map((o) => o.close()));
    }
  });
}

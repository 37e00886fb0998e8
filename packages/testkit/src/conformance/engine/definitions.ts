import {
  ConfigError,
  defineJob,
  JobInputError,
  JobStatus,
  PersistentQueue,
} from "@persistent-queue/core";
import { expect, it } from "vitest";
import { z } from "zod";
import { thrown } from "../../thrown.js";
import { type AdapterUnderTest, q, type TargetKind } from "../context.js";
import { useMigratedDatabase } from "../fixture.js";
import { finalRecord, makeQueue, waitFor } from "./helpers.js";

/** What a promise rejected with; fails if it resolved. */
async function rejected(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("it did not reject");
    },
    (e: unknown) => e,
  );
}

// Shared by the producer and the worker, as a module both import would be.
const shipOrder = defineJob<{ orderId: number }>()({ jobType: 611, name: "ship-order" });
const sendMail = defineJob({
  jobType: 612,
  name: "send-mail",
  schema: z.object({ to: z.string().email() }),
});

/** Job definitions apart from handlers; job types addressed by name, integer or definition. */
export function definitionTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  it("a producer with definitions only enqueues by name, integer or definition; a worker with handlers on the same definitions runs them", async () => {
    const producer = fx.track(
      new PersistentQueue({ db: fx.db, serviceName: "web", jobs: [shipOrder, sendMail] }),
    );
    await producer.start(); // runs nothing: no handlers
    const ids = [
      await producer.add("ship-order", { orderId: 1 }),
      await producer.add(611, { orderId: 2 }),
      await producer.add(shipOrder, { orderId: 3 }),
      ...(await producer.addMany([
        { jobType: "send-mail", params: { to: "a@example.com" } },
        { jobType: sendMail, params: { to: "b@example.com" } },
      ])),
    ];
    // The schema of a definition validates at add() in the producer: nothing inserted.
    const bad = await rejected(producer.add("send-mail", { to: "not an address" }));
    expect(bad).toBeInstanceOf(JobInputError);
    expect((bad as JobInputError).field).toBe("params");
    const unknownName = await rejected(producer.add("ship-orders" as never, {} as never));
    expect(unknownName).toBeInstanceOf(JobInputError);
    expect((unknownName as Error).message).toMatch(
      /no job type is named "ship-orders".*ship-order, send-mail/,
    );
    // The producer started no worker: the jobs wait.
    await new Promise((r) => setTimeout(r, 300));
    const waiting = await q(
      fx.db,
      "SELECT job_type, job_status, params FROM async_job_tab WHERE job_type IN (611, 612) ORDER BY id",
    );
    expect(
      waiting.map((r) => [Number(r.job_type), Number(r.job_status), JSON.parse(String(r.params))]),
    ).toEqual([
      [611, JobStatus.Init, { orderId: 1 }],
      [611, JobStatus.Init, { orderId: 2 }],
      [611, JobStatus.Init, { orderId: 3 }],
      [612, JobStatus.Init, { to: "a@example.com" }],
      [612, JobStatus.Init, { to: "b@example.com" }],
    ]);

    const seen: string[] = [];
    const worker = fx.track(
      makeQueue(fx.db, [
        shipOrder.handle(async (job) => void seen.push(`${job.name}:${job.params.orderId}`)),
        sendMail.handle(async (job) => void seen.push(`${job.name}:${job.params.to}`), {
          maxRetries: 1,
        }),
      ]),
    );
    const completed: string[] = [];
    worker.on("completed", ({ job }) => void completed.push(job.name));
    await worker.start();
    for (const id of ids) expect((await finalRecord(worker, id)).status).toBe(JobStatus.Success);
    expect(seen.sort()).toEqual([
      "send-mail:a@example.com",
      "send-mail:b@example.com",
      "ship-order:1",
      "ship-order:2",
      "ship-order:3",
    ]);
    // The row reads Success once the completion commits; the event follows when the engine
    // has the statement's reply, which can come later (seen on Sequelize/MariaDB in CI).
    await waitFor("five completed events", () => completed.length >= 5);
    expect(completed.sort()).toEqual([
      "send-mail",
      "send-mail",
      "ship-order",
      "ship-order",
      "ship-order",
    ]);

    // getJob: the record has the name and parsed params; naming the type filters.
    const rec = await producer.getJob(ids[0]!, "ship-order");
    expect(rec).toMatchObject({
      jobType: 611,
      name: "ship-order",
      params: { orderId: 1 },
      status: JobStatus.Success,
    });
    expect(await producer.getJob(ids[0]!, "send-mail")).toBeUndefined();
    expect((await producer.getJob(ids[3]!))?.name).toBe("send-mail");
  });

  it("names are checked: unique in a queue, and a plain object without a handler is still an error", () => {
    const dup = defineJob<unknown>()({ jobType: 613, name: "ship-order" });
    const e1 = thrown(() => {
      new PersistentQueue({ db: fx.db, serviceName: "x", jobs: [shipOrder, dup] });
    });
    expect(e1).toBeInstanceOf(ConfigError);
    expect((e1 as Error).message).toMatch(/jobs\[1\]\.name.*"ship-order" names two job types/);
    const e2 = thrown(() => {
      new PersistentQueue({ db: fx.db, serviceName: "x", jobs: [{ jobType: 614 } as never] });
    });
    expect(e2).toBeInstanceOf(ConfigError);
    expect((e2 as Error).message).toMatch(/jobs\[0\]\.handleJob.*defineJob\(\) definition/);
    const e3 = thrown(() => {
      new PersistentQueue({
        db: fx.db,
        serviceName: "x",
        jobs: [defineJob<unknown>()({ jobType: 615, name: "has space" })],
      });
    });
    expect(e3).toBeInstanceOf(ConfigError);
    expect((e3 as Error).message).toMatch(/jobs\[0\]\.name/);
  });
}

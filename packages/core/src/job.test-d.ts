import { describe, expectTypeOf, it } from "vitest";
import type { DB } from "./db.js";
import { defineJob, type Job } from "./job.js";
import { JobStatus } from "./job-status.js";
import { PersistentQueue } from "./queue.js";

declare const db: DB; // types only: this file is checked by tsc (vitest typecheck), never run

describe("typed params", () => {
  it("flow from the job definition to add() and to the handler", () => {
    const email = defineJob({
      jobType: 1,
      handleJob: async (job: Job<{ to: string }>) => {
        expectTypeOf(job.params).toEqualTypeOf<{ to: string }>();
      },
    });
    const report = defineJob({ jobType: 2, handleJob: async (_job: Job<{ month: number }>) => {} });
    const queue = new PersistentQueue({ db, serviceName: "svc", jobs: [email, report] });
    expectTypeOf(queue.add<1>)
      .parameter(1)
      .toEqualTypeOf<{ to: string }>();
    expectTypeOf(queue.add<2>)
      .parameter(1)
      .toEqualTypeOf<{ month: number }>();
    // @ts-expect-error: job type 3 is not configured
    void (() => queue.add(3, {}));
    // @ts-expect-error: params of the wrong shape
    void (() => queue.add(1, { month: 1 }));
  });
});

describe("a producer-only queue", () => {
  it("accepts any job type and params", () => {
    const producer = new PersistentQueue({ db, serviceName: "producer", jobs: [] });
    expectTypeOf(producer.add<7>)
      .parameter(1)
      .toBeUnknown();
  });
});

describe("definitions apart from handlers", () => {
  const shipOrder = defineJob<{ orderId: number }>()({ jobType: 10, name: "ship-order" });
  const sendMail = defineJob<{ to: string }>()({ jobType: 11, name: "send-mail" });
  const unnamed = defineJob<{ n: number }>()({ jobType: 12 });

  it("a producer lists definitions and gets add() typed by integer, name and definition", () => {
    const producer = new PersistentQueue({
      db,
      serviceName: "web",
      jobs: [shipOrder, sendMail, unnamed],
    });
    expectTypeOf(producer.add<10>)
      .parameter(1)
      .toEqualTypeOf<{ orderId: number }>();
    expectTypeOf(producer.add<"ship-order">)
      .parameter(1)
      .toEqualTypeOf<{ orderId: number }>();
    expectTypeOf(producer.add<typeof sendMail>)
      .parameter(1)
      .toEqualTypeOf<{ to: string }>();
    expectTypeOf(producer.add<12>)
      .parameter(1)
      .toEqualTypeOf<{ n: number }>();
    void (() => producer.add("send-mail", { to: "a@b" }));
    void (() => producer.add(shipOrder, { orderId: 1 }));
    void (() =>
      producer.addMany([
        { jobType: "ship-order", params: { orderId: 1 } },
        { jobType: 11, params: { to: "x" } },
      ]));
    // @ts-expect-error: no job type of that name
    void (() => producer.add("ship-orders", { orderId: 1 }));
    // @ts-expect-error: params of another job type
    void (() => producer.add("ship-order", { to: "x" }));
    // @ts-expect-error: params of another job type, in addMany
    void (() => producer.addMany([{ jobType: "send-mail", params: { orderId: 1 } }]));
  });

  it("a worker attaches handlers to the same definitions", () => {
    const worker = new PersistentQueue({
      db,
      serviceName: "worker",
      jobs: [
        shipOrder.handle(
          async (job) => {
            expectTypeOf(job.params).toEqualTypeOf<{ orderId: number }>();
            expectTypeOf(job.jobType).toEqualTypeOf<10>();
          },
          { needRetry: true, maxRetries: 5 },
        ),
      ],
    });
    worker.on("completed", ({ job }) => {
      expectTypeOf(job.params).toEqualTypeOf<{ orderId: number }>();
    });
  });

  it("getJob() is typed when it names the job type", async () => {
    const producer = new PersistentQueue({ db, serviceName: "web", jobs: [shipOrder, sendMail] });
    const any = await producer.getJob(1);
    expectTypeOf(any!.params).toEqualTypeOf<unknown>();
    const ship = await producer.getJob(1, "ship-order");
    expectTypeOf(ship!.params).toEqualTypeOf<{ orderId: number } | undefined>();
    expectTypeOf(ship!.jobType).toEqualTypeOf<10>();
  });

  it("events narrow by job type", () => {
    const worker = new PersistentQueue({
      db,
      serviceName: "worker",
      jobs: [shipOrder.handle(async () => {}), sendMail.handle(async () => {})],
    });
    worker.on("failed", ({ job }) => {
      if (job.jobType === 11) expectTypeOf(job.params).toEqualTypeOf<{ to: string }>();
    });
  });
});

describe("a worker queue takes the definition its handler came from", () => {
  it("add() and getJob() accept the definition", async () => {
    const def = defineJob<{ id: string }>()({ jobType: 20, name: "twenty" });
    const other = defineJob<{ x: number }>()({ jobType: 21, name: "twenty-one" });
    const worker = new PersistentQueue({
      db,
      serviceName: "w",
      jobs: [def.handle(async () => {})],
    });
    expectTypeOf(worker.add<typeof def>)
      .parameter(1)
      .toEqualTypeOf<{ id: string }>();
    const rec = await worker.getJob(1, def);
    expectTypeOf(rec!.params).toEqualTypeOf<{ id: string } | undefined>();
    // @ts-expect-error: a definition of a job type this queue does not list
    void (() => worker.add(other, { x: 1 }));
  });
});

describe("defineJob<P>() with a handler", () => {
  it("types the handler's params and returns a config", () => {
    const cfg = defineJob<{ orderId: number }>()({
      jobType: 30,
      handleJob: async (job) => {
        expectTypeOf(job.params).toEqualTypeOf<{ orderId: number }>();
      },
    });
    const q = new PersistentQueue({ db, serviceName: "w", jobs: [cfg] });
    expectTypeOf(q.add<30>)
      .parameter(1)
      .toEqualTypeOf<{ orderId: number }>();
  });
});

describe("results", () => {
  it("defineJob<P, R>() types the handler's result and getJob()/waitFor() read it back", async () => {
    const render = defineJob<{ page: string }, { url: string; bytes: number }>()({
      jobType: 40,
      name: "render",
    });
    const worker = new PersistentQueue({
      db,
      serviceName: "w",
      jobs: [
        render.handle(async (job) => {
          expectTypeOf(job.params).toEqualTypeOf<{ page: string }>();
          return { result: { url: `/${job.params.page}`, bytes: 1 } };
        }),
      ],
    });
    const rec = await worker.getJob(1, "render");
    expectTypeOf(rec!.result).toEqualTypeOf<{ url: string; bytes: number } | undefined>();
    expectTypeOf(rec!.progress).toBeUnknown();
    const done = await worker.waitFor(1, { jobType: render, timeout: "5s" });
    expectTypeOf(done.result).toEqualTypeOf<{ url: string; bytes: number } | undefined>();
    expectTypeOf(done.error).toEqualTypeOf<string | null>();
    const untyped = await worker.waitFor(1);
    expectTypeOf(untyped.result).toBeUnknown();
    expectTypeOf((await worker.getJob(1))!.result).toBeUnknown();
    // A producer that lists only the definition reads the same type.
    const producer = new PersistentQueue({ db, serviceName: "p", jobs: [render] });
    expectTypeOf((await producer.waitFor(1, { jobType: "render" })).result).toEqualTypeOf<
      { url: string; bytes: number } | undefined
    >();
  });

  it("a handler of a typed definition must return that result (or a bare status, or nothing)", () => {
    const render = defineJob<{ page: string }, { url: string }>()({ jobType: 41 });
    render.handle(async () => ({ status: JobStatus.Success, result: { url: "/" } }));
    render.handle(async () => JobStatus.Retry);
    render.handle(async () => {});
    render.handle(async () => ({ status: JobStatus.Continue }));
    // @ts-expect-error: a result of the wrong shape
    render.handle(async () => ({ result: { href: "/" } }));
    // @ts-expect-error: a bare result must be wrapped as { result }
    render.handle(async () => "done");
  });

  it("an inline config's result type comes from its handler", async () => {
    const cfg = defineJob({
      jobType: 42,
      handleJob: async (_job: Job<{ n: number }>) => ({ result: { doubled: 2 } }),
    });
    const q = new PersistentQueue({ db, serviceName: "w", jobs: [cfg] });
    expectTypeOf((await q.getJob(1, 42))!.result).toEqualTypeOf<{ doubled: number } | undefined>();
  });

  it("existing forms keep compiling: bare status, nothing, and ctx.progress", () => {
    defineJob({
      jobType: 43,
      handleJob: async (_job: Job<{ n: number }>, ctx) => {
        expectTypeOf(ctx.progress).parameter(0).toBeUnknown();
        await ctx.progress({ done: 1 });
        return JobStatus.Success;
      },
    });
    const plain = defineJob<{ n: number }>()({ jobType: 44 });
    plain.handle(async () => ({ result: ["anything"] }));
    const q = new PersistentQueue({ db, serviceName: "w", jobs: [plain.handle(async () => {})] });
    expectTypeOf(q.waitFor<44>).returns.resolves.toHaveProperty("status");
  });
});

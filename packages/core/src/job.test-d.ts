import { describe, expectTypeOf, it } from "vitest";
import type { DB } from "./db.js";
import { defineJob, type Job } from "./job.js";
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

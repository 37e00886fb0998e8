import { describe, expect, it } from "vitest";
import type { DB } from "./db.js";
import { ConfigError } from "./errors.js";
import { type AnyJobConfig, defineJob } from "./job.js";
import { PersistentQueue } from "./queue.js";

const db: DB = {
  dialect: "sqlite",
  exec: async () => ({ affectedRows: 0 }),
  query: async () => [],
  ping: async () => {},
  close: async () => {},
}; // never reached: construction validates before touching the database
const handleJob = async () => {};

function errorOf(jobs: unknown, extra: Record<string, unknown> = {}): ConfigError {
  try {
    new PersistentQueue({ db, serviceName: "svc", jobs: jobs as AnyJobConfig[], ...extra });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("no error thrown");
}

describe("queue config", () => {
  it.each([
    [[{ jobType: 1.5, handleJob }], "jobs[0].jobType"],
    [[{ jobType: 1 }], "jobs[0].handleJob"],
    [[{ jobType: 1, handleJob, maxRetries: -1 }], "jobs[0].maxRetries"],
    [[{ jobType: 1, handleJob, waitTime: "3 fortnights" }], "jobs[0].waitTime"],
    [[{ jobType: 1, handleJob, workerPoolCapacity: 0 }], "jobs[0].workerPoolCapacity"],
    [[{ jobType: 1, handleJob, workerExpirySecond: -5 }], "jobs[0].workerExpirySecond"],
    [[{ jobType: 1, handleJob, firstPullDay: -2 }], "jobs[0].firstPullDay"],
    [[{ jobType: 1, handleJob, queueMaxSize: 0 }], "jobs[0].queueMaxSize"],
    [[{ jobType: 1, handleJob, loadLimit: 1e9 }], "jobs[0].loadLimit"],
    [[{ jobType: 1, handleJob, prefetch: -1 }], "jobs[0].prefetch"],
    [[{ jobType: 1, handleJob, prefetch: 2.5 }], "jobs[0].prefetch"],
    [[{ jobType: 1, handleJob, leaseTime: 50 }], "jobs[0].leaseTime"],
    [[{ jobType: 1, handleJob, timeout: 0 }], "jobs[0].timeout"],
    [[{ jobType: 1, handleJob, maxResultBytes: 0 }], "jobs[0].maxResultBytes"],
    [[{ jobType: 1, handleJob, maxResultBytes: 2 ** 24 }], "jobs[0].maxResultBytes"],
    [[{ jobType: 1, handleJob, maxProgressBytes: 1.5 }], "jobs[0].maxProgressBytes"],
    [[{ jobType: 1, handleJob, progressInterval: "often" }], "jobs[0].progressInterval"],
    [[{ jobType: 1, handleJob, needRetry: "yes" }], "jobs[0].needRetry"],
    [[{ jobType: 1, handleJob, backoff: { type: "linear" } }], "jobs[0].backoff"],
    [[{ jobType: 1, handleJob, schema: { parse() {} } }], "jobs[0].schema"],
    [
      [
        { jobType: 1, handleJob },
        { jobType: 1, handleJob },
      ],
      "jobs[1].jobType",
    ],
  ])("rejects %j naming %s", (jobs, field) => {
    const err = errorOf(jobs);
    expect(err.field).toBe(field);
    expect(err.code).toBe("ERR_PQ_CONFIG");
    expect(err.message.startsWith(`${field}: `)).toBe(true);
  });

  it("a defineJob() with a handleJob that is not a function is a config, reported as such (not a bare definition)", () => {
    expect(errorOf([defineJob({ jobType: 1, handleJob: "run" } as never)]).field).toBe(
      "jobs[0].handleJob",
    );
  });

  it("a definition passed to add() that the queue does not list is checked like the queue's own", async () => {
    const queue = new PersistentQueue({ db, serviceName: "svc", jobs: [] });
    const bad = defineJob<unknown>()({ jobType: 7, schema: { parse() {} } as never });
    const err = await queue.add(bad, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe("jobType.schema");
  });

  it.each([
    [{ serviceName: "" }, "serviceName"],
    [{ serviceName: "name with spaces; DROP" }, "serviceName"],
    [{ db: undefined }, "db"],
    [{ pollInterval: -1 }, "pollInterval"],
  ])("rejects queue option %j naming %s", (extra, field) => {
    expect(errorOf([], extra).field).toBe(field);
  });

  it("rejects table names that are not plain identifiers (no SQL injection through config)", () => {
    expect(
      () =>
        new PersistentQueue({
          db,
          serviceName: "svc",
          jobs: [],
          tables: { jobs: "jobs`; DROP TABLE users; --" },
        }),
    ).toThrow(/plain SQL identifier/);
  });

  it("accepts the seed's config names with their defaults", () => {
    const queue = new PersistentQueue({
      db,
      serviceName: "order-service",
      jobs: [
        {
          jobType: 1,
          name: "send-pay-success-noti",
          needRetry: true,
          maxRetries: 3,
          waitTime: "3m",
          workerPoolCapacity: 100,
          workerExpirySecond: 30,
          firstPullDay: 7,
          queueMaxSize: 50000,
          loadLimit: 10000,
          handleJob,
        },
      ],
    });
    expect(queue.workerId).toMatch(/^order-service-/);
  });
});

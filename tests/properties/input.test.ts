/**
 * Property-based tests over what users pass in: any config and any add()
 * input either works or fails with a typed PersistentQueueError that names a
 * field; never another exception, never a half-written job. add() runs
 * against a real SQLite file.
 */
import { fromBetterSqlite3 } from "@persistent-queue/better-sqlite3";
import {
  type AnyJobConfig,
  ConfigError,
  type DB,
  JobInputError,
  PersistentQueue,
  PersistentQueueError,
  parseDuration,
} from "@persistent-queue/core";
import { createSqliteFile } from "@persistent-queue/testkit";
import Database from "better-sqlite3";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let file: Awaited<ReturnType<typeof createSqliteFile>>;
let sqlite: Database.Database;
let db: DB;
beforeAll(async () => {
  file = await createSqliteFile();
  sqlite = new Database(file.path);
  db = fromBetterSqlite3(sqlite);
  await new PersistentQueue({ db, serviceName: "props", jobs: [] }).migrate();
});
afterAll(async () => {
  sqlite.close();
  await file.cleanup();
});

const count = () =>
  (sqlite.prepare("SELECT COUNT(*) AS n FROM async_job_tab").get() as { n: number }).n;

describe("parseDuration", () => {
  it("reads back any whole number of ms, as a number or as text with units", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 9 }), (ms) => {
        expect(parseDuration("d", ms)).toBe(ms);
        const s = Math.floor(ms / 1000);
        expect(parseDuration("d", `${s}s${ms % 1000}ms`)).toBe(s * 1000 + (ms % 1000));
      }),
    );
  });

  it("anything else is a ConfigError naming the field, never NaN or another error", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        try {
          const ms = parseDuration("jobs[0].waitTime", value);
          expect(Number.isInteger(ms) && ms >= 0).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          expect((err as ConfigError).field).toBe("jobs[0].waitTime");
        }
      }),
    );
  });
});

describe("queue config", () => {
  const field = fc.oneof(
    fc.anything(),
    fc.integer(),
    fc.string(),
    fc.double(),
    fc.constant(undefined),
  );
  it("any job config either constructs or throws a typed error naming a field", () => {
    fc.assert(
      fc.property(
        fc.record({
          jobType: fc.oneof(fc.integer(), fc.anything()),
          needRetry: field,
          maxRetries: field,
          waitTime: field,
          workerPoolCapacity: field,
          workerExpirySecond: field,
          firstPullDay: field,
          queueMaxSize: field,
          loadLimit: field,
          timeout: field,
          leaseTime: field,
          backoff: field,
        }),
        fc.string(),
        (config, serviceName) => {
          try {
            new PersistentQueue({
              db,
              serviceName,
              jobs: [{ ...config, handleJob: async () => {} } as AnyJobConfig],
            });
          } catch (err) {
            expect(err).toBeInstanceOf(PersistentQueueError);
            expect(String((err as Error).message)).toMatch(
              /^[\w.[\]]+: |must be a plain SQL identifier/,
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("add()", () => {
  const queue = () => new PersistentQueue({ db, serviceName: "props", jobs: [] });
  it("either inserts exactly the JSON of the params or rejects with JobInputError and inserts nothing", async () => {
    const q = queue();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          fc.double(),
          fc.constant(2 ** 40),
        ),
        fc.oneof(fc.jsonValue(), fc.anything(), fc.string({ minLength: 4000, maxLength: 5000 })),
        fc.option(fc.oneof(fc.integer({ min: -10, max: 10 ** 7 }), fc.string(), fc.double()), {
          nil: undefined,
        }),
        fc.option(fc.oneof(fc.date(), fc.integer({ min: -5, max: 2 ** 33 })), { nil: undefined }),
        async (jobType, params, delay, startTime) => {
          const before = count();
          try {
            const id = await q.add(jobType as number, params, { delay, startTime });
            const row = sqlite
              .prepare("SELECT params, job_type FROM async_job_tab WHERE id = ?")
              .get(id) as { params: string; job_type: number };
            expect(row.job_type).toBe((jobType as number) + 0); // -0 is stored as 0
            expect(row.params).toBe(JSON.stringify(params));
            expect(count()).toBe(before + 1);
          } catch (err) {
            expect(err).toBeInstanceOf(JobInputError);
            expect(count()).toBe(before);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

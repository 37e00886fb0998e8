import { describe, expect, it } from "vitest";
import { ConfigError, InvalidIdentifierError } from "../errors.js";
import { DEFAULT_TABLES, resolveTableNames } from "./tables.js";

describe("resolveTableNames", () => {
  it("defaults to the seed's tables", () => {
    expect(resolveTableNames()).toEqual(DEFAULT_TABLES);
    expect(DEFAULT_TABLES).toEqual({
      jobs: "async_job_tab",
      locks: "shedlock_tab",
      schedules: "pq_schedules",
      jobTypes: "pq_job_types",
      jobGroups: "pq_job_groups",
      jobStarts: "pq_job_starts",
      jobStats: "pq_job_stats",
      migrations: "pq_migrations",
    });
  });

  it.each([["jobs; DROP TABLE users"], ["my-jobs"], ["1jobs"], ["jobs\u0000"], [""]])(
    "rejects %j as a table name",
    (name) => {
      expect(() => resolveTableNames({ jobs: name })).toThrow(InvalidIdentifierError);
    },
  );

  it("says which field is wrong when a name is too long for derived index names", () => {
    const err = (() => {
      try {
        resolveTableNames({ jobs: "j".repeat(51) });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ field: "tables.jobs", code: "ERR_PQ_CONFIG" });
  });
});

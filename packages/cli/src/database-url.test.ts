import { describe, expect, it } from "vitest";
import { parseDatabaseUrl, redactUrl } from "./database-url.js";
import { ExitCode, UsageError } from "./errors.js";

describe("parseDatabaseUrl", () => {
  it("reads each accepted scheme", () => {
    expect(parseDatabaseUrl("mysql://app:pw@db.local:3306/shop")).toEqual({
      kind: "mysql",
      url: "mysql://app:pw@db.local:3306/shop",
    });
    // mysql2 speaks to MariaDB as well: the URL it gets says mysql://
    expect(parseDatabaseUrl("mariadb://app@127.0.0.1/shop")).toEqual({
      kind: "mysql",
      url: "mysql://app@127.0.0.1/shop",
    });
    for (const url of ["postgres://app@127.0.0.1/shop", "postgresql://app@127.0.0.1:5433/shop"])
      expect(parseDatabaseUrl(url)).toEqual({ kind: "postgres", url });
    expect(parseDatabaseUrl("sqlite:data/q.sqlite", "/srv/app")).toEqual({
      kind: "sqlite",
      path: "/srv/app/data/q.sqlite",
    });
    expect(parseDatabaseUrl("sqlite:///var/q.sqlite", "/srv/app")).toEqual({
      kind: "sqlite",
      path: "/var/q.sqlite",
    });
  });

  it.each([
    ["redis://127.0.0.1:6379/0", /scheme redis: is not supported.*mysql:\/\/.*sqlite:/],
    ["127.0.0.1:5432/app", /it has no scheme/],
    ["postgres://127.0.0.1", /names no database/],
    ["mysql:///app", /names no host/],
    ["postgres://app:p@ss@host:99999/app", /not a valid URL.*percent-encoded/],
    ["sqlite:", /names no SQLite file/],
    ["sqlite::memory:", /in-memory database would vanish/],
  ])("refuses %s with a usage error (exit 2) that says what to write", (url, says) => {
    let error: unknown;
    try {
      parseDatabaseUrl(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.Usage);
    expect((error as Error).message).toMatch(says);
  });

  it("never repeats a password in its messages", () => {
    expect(() => parseDatabaseUrl("postgres://app:hunter2@127.0.0.1")).toThrow(
      /postgres:\/\/app:\*\*\*@127\.0\.0\.1/,
    );
    expect(redactUrl("mysql://root:s3cret@h/db")).toBe("mysql://root:***@h/db");
    expect(redactUrl("postgres://app:p@ss@h:1/db")).toBe("postgres://app:***@h:1/db");
    expect(redactUrl("postgres://app@h/db")).toBe("postgres://app@h/db");
    expect(redactUrl("sqlite:/tmp/x")).toBe("sqlite:/tmp/x");
  });
});

import { existsSync } from "node:fs";
import { connect } from "node:net";
import type { RowDataPacket } from "mysql2/promise";
import { afterAll, describe, expect, inject, it } from "vitest";
import { postgres18FromEnvOrStart } from "./env.js";
import { withMysql, withPg } from "./internal/probes.js";
import { type DatabaseServer, startMariaDB, startPostgres } from "./servers.js";

/** True if something accepts TCP connections on 127.0.0.1:port. */
function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

const started: DatabaseServer[] = [];
afterAll(() => Promise.all(started.map((s) => s.stop())));

/** Starts, writes a row, restarts, reads it back, stops, and checks nothing is left. */
async function lifecycle(
  start: () => Promise<DatabaseServer>,
  write: (url: string) => Promise<void>,
  read: (url: string) => Promise<string | undefined>,
): Promise<DatabaseServer> {
  const server = await start();
  started.push(server);
  expect(server.owned).toBe(true);
  expect(server.host).toBe("127.0.0.1");
  expect(await portOpen(server.port)).toBe(true);
  expect(server.dataDir && existsSync(server.dataDir)).toBeTruthy();

  await write(server.url);
  await server.restart();
  expect(await read(server.url)).toBe("kept across restart");

  await server.stop();
  expect(await portOpen(server.port)).toBe(false);
  expect(existsSync(server.dataDir!)).toBe(false);
  await server.stop(); // idempotent
  await expect(server.restart()).rejects.toThrow(/stopped/);
  return server;
}

describe("throwaway servers", () => {
  it("MariaDB starts, keeps data across restart(), and stop() leaves nothing", {
    timeout: 60_000,
  }, async () => {
    const server = await lifecycle(
      startMariaDB,
      (url) =>
        withMysql(url, async (conn) => {
          await conn.query("CREATE DATABASE t");
          await conn.query("CREATE TABLE t.kv (k INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB");
          await conn.query("INSERT INTO t.kv VALUES (1, 'kept across restart')");
        }),
      (url) =>
        withMysql(url, async (conn) => {
          const [rows] = await conn.query<RowDataPacket[]>("SELECT v FROM t.kv WHERE k = 1");
          return rows[0]?.v as string | undefined;
        }),
    );
    expect(server.kind).toBe("mariadb");
    expect(server.version).toMatch(/MariaDB/);
    expect(server.url).toBe(`mysql://root@127.0.0.1:${server.port}/`);
  });

  it.each([
    ["PostgreSQL (the system's)", "system", /^PostgreSQL \d+/],
    ["PostgreSQL 18 (from the npm registry)", "npm-18", /^PostgreSQL 18\./],
  ] as const)(
    "%s starts, keeps data across restart(), and stop() leaves nothing",
    async (_name, flavour, version) => {
      const server = await lifecycle(
        () => startPostgres({ flavour }),
        (url) =>
          withPg(url, async (client) => {
            await client.query("CREATE TABLE kv (k INT PRIMARY KEY, v TEXT)");
            await client.query("INSERT INTO kv VALUES (1, 'kept across restart')");
          }),
        (url) =>
          withPg(url, async (client) => {
            const result = await client.query<{ v: string }>("SELECT v FROM kv WHERE k = 1");
            return result.rows[0]?.v;
          }),
      );
      expect(server.kind).toBe("postgres");
      expect(server.version).toMatch(version);
      expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    },
    300_000,
  ); // the first run fetches PostgreSQL 18 (about 24 MB)
});

describe("PQ_PG18_URL", () => {
  it("must name a PostgreSQL 18: the run's own PostgreSQL (15) is refused, not run on as if it were 18", async () => {
    const before = process.env.PQ_PG18_URL;
    process.env.PQ_PG18_URL = inject("pqPgUrl");
    try {
      await expect(postgres18FromEnvOrStart()).rejects.toThrow(
        /PQ_PG18_URL: expected PostgreSQL 18, got PostgreSQL (?!18\.)/,
      );
    } finally {
      if (before === undefined) delete process.env.PQ_PG18_URL;
      else process.env.PQ_PG18_URL = before;
    }
  });
});

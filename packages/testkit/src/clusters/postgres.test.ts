// The primary + standby starter: the standby streams (synchronously when asked),
// survives the primary's crash with what was committed, takes writes once
// promoted, and stop() leaves no process and no directory behind.
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { withPg } from "../internal/probes.js";
import { type PostgresCluster, startPostgresCluster } from "./postgres.js";

const started: PostgresCluster[] = [];
afterAll(() => Promise.all(started.map((c) => c.stop())));

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

const one = async (url: string, text: string): Promise<unknown> =>
  withPg(url, async (c) => Object.values((await c.query(text)).rows[0] ?? {})[0]);

describe.each([false, true])(
  "a PostgreSQL primary and standby (synchronous: %s)",
  (synchronous) => {
    it("streams, keeps committed rows through the primary's crash, takes writes once promoted, and stops clean", {
      timeout: 90_000,
    }, async () => {
      const cluster = await startPostgresCluster({ synchronous });
      started.push(cluster);
      const { primary, standby } = cluster;
      expect(cluster.url).toBe(
        `postgres://postgres@127.0.0.1:${primary.port},127.0.0.1:${standby.port}/postgres?target_session_attrs=read-write`,
      );
      expect(cluster.urlFor("q1")).toMatch(/\/q1\?target_session_attrs=read-write$/);
      expect(await one(primary.url, "SELECT pg_is_in_recovery()")).toBe(false);
      expect(await one(standby.url, "SELECT pg_is_in_recovery()")).toBe(true);
      expect(await one(primary.url, "SELECT sync_state FROM pg_stat_replication")).toBe(
        synchronous ? "sync" : "async",
      );

      await withPg(primary.url, async (c) => {
        await c.query("CREATE TABLE kv (k int PRIMARY KEY, v text)");
        await c.query("INSERT INTO kv VALUES (1, 'before the crash')");
      });
      if (!synchronous) {
        // Asynchronous: wait until the standby has replayed it (synchronous: COMMIT did).
        const lsn = await one(primary.url, "SELECT pg_current_wal_lsn()::text");
        for (let i = 0; i < 100; i++) {
          const caught = await one(
            standby.url,
            `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn`,
          );
          if (caught === true) break;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      // Synchronous: COMMIT waited for the standby's flush (remote_flush), so the row is there.
      await cluster.crashPrimary();
      expect(await portOpen(primary.port)).toBe(false);
      await expect(
        withPg(standby.url, (c) => c.query("INSERT INTO kv VALUES (2, 'x')")),
      ).rejects.toThrow(/read-only/);

      const ms = await cluster.promoteStandby();
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(await one(standby.url, "SELECT pg_is_in_recovery()")).toBe(false);
      expect(await one(standby.url, "SELECT v FROM kv WHERE k = 1")).toBe("before the crash");
      await withPg(standby.url, (c) => c.query("INSERT INTO kv VALUES (2, 'after promotion')"));
      expect(await one(standby.url, "SELECT count(*)::int FROM kv")).toBe(2);

      await cluster.stop();
      expect(await portOpen(standby.port)).toBe(false);
      expect(existsSync(cluster.dir)).toBe(false);
      await cluster.stop(); // idempotent
      await expect(cluster.crashPrimary()).rejects.toThrow(/stopped/);
    });
  },
);

import { existsSync } from "node:fs";
import type { RowDataPacket } from "mysql2/promise";
import { afterAll, expect, it } from "vitest";
import { withMysql } from "../internal/probes.js";
import { type GaleraCluster, startGaleraCluster } from "./galera.js";

let cluster: GaleraCluster | undefined;
afterAll(() => cluster?.stop());

const url = (c: GaleraCluster, i: number) => c.urls[i]!;

it("starts 3 synced nodes; a row written on node 1 is read on node 3; kill and rejoin; stop removes everything", {
  timeout: 240_000,
}, async () => {
  const c = await startGaleraCluster();
  cluster = c;
  expect(c.urls).toHaveLength(3);
  expect(new Set(c.ports).size).toBe(3);
  for (let i = 0; i < 3; i++) expect(await c.state(i)).toBe("Synced");
  const size = await withMysql(url(c, 2), async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>("SHOW STATUS LIKE 'wsrep_cluster_size'");
    return Number(rows[0]?.Value);
  });
  expect(size).toBe(3);

  await withMysql(url(c, 0), async (conn) => {
    await conn.query("CREATE DATABASE g");
    await conn.query("CREATE TABLE g.t (id INT PRIMARY KEY, v VARCHAR(20))");
    await conn.query("INSERT INTO g.t VALUES (1, 'from node 1')");
  });
  const read = (i: number) =>
    withMysql(url(c, i), async (conn) => {
      // Causal read: wait until this node has applied everything committed before.
      await conn.query("SET SESSION wsrep_sync_wait = 1");
      const [rows] = await conn.query<RowDataPacket[]>("SELECT v FROM g.t WHERE id = 1");
      return rows[0]?.v as string | undefined;
    });
  expect(await read(2)).toBe("from node 1");

  // A crash, a write while the node is down, and an incremental rejoin.
  await c.kill(1);
  await expect(c.state(1)).rejects.toThrow();
  await withMysql(url(c, 0), (conn) => conn.query("INSERT INTO g.t VALUES (2, 'while down')"));
  await c.rejoin(1);
  expect(await c.state(1)).toBe("Synced");
  const v = await withMysql(url(c, 1), async (conn) => {
    await conn.query("SET SESSION wsrep_sync_wait = 1");
    const [rows] = await conn.query<RowDataPacket[]>("SELECT v FROM g.t WHERE id = 2");
    return rows[0]?.v as string | undefined;
  });
  expect(v).toBe("while down");

  await c.stop();
  expect(existsSync(c.dir)).toBe(false);
  await expect(c.state(0)).rejects.toThrow();
});

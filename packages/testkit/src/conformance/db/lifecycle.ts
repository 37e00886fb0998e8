import { afterAll, expect, it } from "vitest";
import { createDatabase } from "../../databases.js";
import { type DatabaseServer, startMariaDB, startPostgres } from "../../servers.js";
import {
  type AdapterUnderTest,
  eventually,
  q,
  skipInProcess,
  type TargetKind,
  x,
} from "../context.js";
import { openFresh } from "./open-target.js";

/** ping, close, and surviving a server restart without a new DB object. */
export function lifecycleTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  it("ping() resolves on a live connection", async () => {
    const opened = await openFresh(adapter, kind);
    try {
      await expect(opened.db.ping()).resolves.toBeUndefined();
    } finally {
      await opened.close();
    }
  });

  it("close() releases the connection: later calls reject instead of hanging", async () => {
    const opened = await openFresh(adapter, kind);
    await opened.db.ping();
    await opened.db.close();
    await expect(opened.db.query("SELECT 1 AS one")).rejects.toThrow();
    await opened.close().catch(() => undefined); // already closed: the drop may still need doing
  });

  if (kind === "sqlite") {
    it("has no server to restart (embedded): a reopened file keeps its rows", async () => {
      const opened = await openFresh(adapter, kind);
      try {
        await x(opened.db, "CREATE TABLE restart_probe (v INTEGER)");
        await x(opened.db, "INSERT INTO restart_probe (v) VALUES ({})", [7]);
        if (opened.target.kind !== "sqlite") throw new Error("unreachable");
        const again = await adapter.open(opened.target);
        expect((await q(again.db, "SELECT v FROM restart_probe"))[0]?.v).toBe(7);
        await again.close();
      } finally {
        await opened.close();
      }
    });
    return;
  }

  let server: DatabaseServer | undefined;
  afterAll(() => server?.stop());

  it("ping() succeeds again after the server restarts, on the same DB object", {
    timeout: 120_000,
  }, async (ctx) => {
    skipInProcess(ctx, adapter);
    const choice = adapter.servers?.[kind];
    server = choice
      ? await choice.start()
      : kind === "mariadb"
        ? await startMariaDB()
        : await startPostgres();
    const database = await createDatabase({ kind, url: server.url });
    const target = { kind, url: database.url } as const;
    const opened = await adapter.open(target);
    try {
      await x(opened.db, "CREATE TABLE restart_probe (v INTEGER)");
      await x(opened.db, "INSERT INTO restart_probe (v) VALUES ({})", [7]);
      await server.restart();
      // The pool's old connections are dead; the adapter must recover without a new DB object.
      const { tries } = await eventually(() => opened.db.ping(), 20_000, 250);
      expect(tries).toBeLessThan(80);
      const { value } = await eventually(
        () => q(opened.db, "SELECT v FROM restart_probe"),
        10_000,
        250,
      );
      expect(Number(value[0]?.v)).toBe(7);
    } finally {
      await opened.close();
    }
  });
}

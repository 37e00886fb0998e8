import { describe, expect, it } from "vitest";
import { TransactionMisuseError } from "../errors.js";
import { sqliteGate } from "./sqlite-gate.js";

describe("the SQLite transaction gate", () => {
  it("one connection, one gate: every DB on it shares it", () => {
    const connection = {};
    expect(sqliteGate(connection)).toBe(sqliteGate(connection));
    expect(sqliteGate(connection)).not.toBe(sqliteGate({}));
  });

  it("others wait for the holder's end; calls from inside it run at once and see its scope", async () => {
    const gate = sqliteGate<string>({});
    const order: string[] = [];
    let release!: () => void;
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const held = gate.hold("test", "tx-1", async () => {
      order.push("begin");
      await gate.turn(); // the holder's own calls do not wait for themselves
      expect(gate.scope()).toBe("tx-1");
      const released = new Promise<void>((r) => (release = r));
      entered();
      await released;
      order.push("commit");
    });
    await inside;
    expect(gate.busy()).toBe(true);
    expect(gate.scope()).toBeUndefined();
    const outside = gate.turn().then(() => order.push("outside"));
    const second = gate.hold("test", "tx-2", async () => void order.push("second"));
    expect(() => gate.assertSyncTurn("test")).toThrow(TransactionMisuseError);
    release();
    await Promise.all([held, outside, second]);
    expect(order.slice(0, 2)).toEqual(["begin", "commit"]);
    expect(order.slice(2).sort()).toEqual(["outside", "second"]);
    expect(gate.busy()).toBe(false);
  });

  it("refuses a nested transaction", async () => {
    const gate = sqliteGate({});
    const nested = await gate
      .hold("fromTest", 1, () => gate.hold("fromTest", 2, async () => 0))
      .catch((e: unknown) => e);
    expect(nested).toBeInstanceOf(TransactionMisuseError);
    expect(nested).toMatchObject({ message: /^fromTest: transactions do not nest/ });
  });
});

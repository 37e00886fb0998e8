import { describe, expect, it } from "vitest";
import { withConnection } from "./connection.js";

describe("a statement on a pooled connection", () => {
  it("releases the connection after fn settles, also when it throws", async () => {
    const released: string[] = [];
    const release = (c: string) => void released.push(c);
    expect(
      await withConnection(
        async () => "a",
        release,
        async (c) => `${c}!`,
      ),
    ).toBe("a!");
    const failed = withConnection(
      () => "b",
      release,
      async () => {
        expect(released).toEqual(["a"]);
        throw new Error("boom");
      },
    );
    await expect(failed).rejects.toThrow("boom");
    expect(released).toEqual(["a", "b"]);
  });
});

import { describe, expect, it } from "vitest";
import { leaseFence } from "./lease-fence.js";
import { postgresDialect } from "./postgres/index.js";
import { compile } from "./sql.js";

const text = (jobs: { id: number; token: string }[]) =>
  compile(leaseFence(jobs), postgresDialect());

describe("leaseFence", () => {
  it("checks one claim's jobs against its one token", () => {
    expect(
      text([
        { id: 1, token: "a" },
        { id: 2, token: "a" },
      ]),
    ).toEqual({ text: "id IN ($1, $2) AND lease_token = $3", params: [1, 2, "a"] });
  });

  it("checks each token's jobs against that token only", () => {
    expect(
      text([
        { id: 1, token: "a" },
        { id: 2, token: "b" },
        { id: 3, token: "a" },
      ]),
    ).toEqual({
      text: "id IN ($1, $2, $3) AND ((lease_token = $4 AND id IN ($5, $6)) OR (id = $7 AND lease_token = $8))",
      params: [1, 2, 3, "a", 1, 3, 2, "b"],
    });
  });
});

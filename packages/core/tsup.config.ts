import { defineConfig } from "tsup";

export default defineConfig({
  // The adapter kit is its own subpath (@persistent-queue/core/adapter).
  entry: { index: "src/index.ts", adapter: "src/adapter/index.ts" },
  format: ["esm", "cjs"],
  // Shared chunks for CJS too: without them each CJS entry would carry its own
  // copy of the error classes, and `instanceof TransactionMisuseError` would
  // fail for an error the kit threw.
  splitting: true,
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
});

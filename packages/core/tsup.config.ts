import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

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
  // The tracer's and meter's instrumentation version (telemetry/telemetry.ts).
  define: { __PQ_VERSION__: JSON.stringify(version) },
});

import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };

export default defineConfig({
  // run() and its helpers; bin/persistent-queue.js (the command) imports the ESM build.
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  define: { __PQ_CLI_VERSION__: JSON.stringify(version) },
});

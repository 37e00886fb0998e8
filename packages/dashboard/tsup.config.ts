import { defineConfig } from "tsup";

export default defineConfig({
  // The server side; the browser app (ui/) is built by Vite into dist/ui afterwards.
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  // import.meta.url in the CJS build: where dist/ui is.
  shims: true,
});

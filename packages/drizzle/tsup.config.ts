import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  // The CJS build gets a real import.meta.url, for createRequire in schema.ts.
  shims: true,
  target: "node20",
});

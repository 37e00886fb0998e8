import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string) =>
  fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources, so a test never sees a stale build.
    alias: {
      // Before the package itself: an alias also matches its subpaths.
      "@persistent-queue/core/adapter": fileURLToPath(
        new URL("./packages/core/src/adapter/index.ts", import.meta.url),
      ),
      "@persistent-queue/core": src("core"),
      "@persistent-queue/testkit": src("testkit"),
      "@persistent-queue/mysql2": src("mysql2"),
      "@persistent-queue/pg": src("pg"),
      "@persistent-queue/postgres": src("postgres"),
      "@persistent-queue/pglite": src("pglite"),
      "@persistent-queue/better-sqlite3": src("better-sqlite3"),
      "@persistent-queue/node-sqlite": src("node-sqlite"),
      "@persistent-queue/typeorm": src("typeorm"),
      "@persistent-queue/prisma": src("prisma"),
      "@persistent-queue/drizzle": src("drizzle"),
      "@persistent-queue/sequelize": src("sequelize"),
      "@persistent-queue/knex": src("knex"),
      "@persistent-queue/mikro-orm": src("mikro-orm"),
      "@persistent-queue/kysely": src("kysely"),
    },
  },
  test: {
    include: [
      "packages/*/src/**/*.test.ts",
      "examples/*/src/**/*.test.ts",
      "scripts/**/*.test.ts",
      "tests/**/*.test.ts",
    ],
    globalSetup: ["./packages/testkit/src/global-setup.ts"],
    // Type-level tests (*.test-d.ts) run through tsc and fail like any other test.
    typecheck: {
      enabled: true,
      include: ["packages/*/src/**/*.test-d.ts"],
      tsconfig: "./tsconfig.typecheck.json",
    },
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // In CI also a JSON report, from which scripts/ci-matrix.sh prints the slowest files.
    reporters: process.env.CI
      ? ["default", ["json", { outputFile: "node_modules/.cache/vitest-report.json" }]]
      : ["default"],
  },
});

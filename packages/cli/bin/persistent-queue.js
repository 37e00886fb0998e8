#!/usr/bin/env node
// The `persistent-queue` command. A committed file rather than one in dist/, so
// that npm links it into node_modules/.bin at install time, before any build.
import("../dist/index.js").then(
  async ({ run }) => {
    process.exitCode = await run(process.argv.slice(2));
  },
  (error) => {
    if (error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
    console.error(
      "persistent-queue: @persistent-queue/cli is not built (no dist/): run `npm run build` first.",
    );
    process.exitCode = 2;
  },
);

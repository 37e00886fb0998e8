// Generates the Prisma clients this package's tests use, one per provider,
// from the models the package exports (dist/, so run after tsup). Offline:
// the "prisma-client" generator needs no engine binary, and
// PRISMA_SCHEMA_ENGINE_BINARY=/bin/false stops the CLI from downloading one.
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { promisify } from "node:util";
import { prismaQueueModels } from "../dist/index.js";

const run = promisify(execFile);
// A business table for the transactional-enqueue tests (created by the tests with plain SQL).
const ORDER_MODEL = `
model Order {
  id   String @id
  item String

  @@map("orders")
}
`;
const root = new URL("../generated/", import.meta.url);
const cli = createRequire(import.meta.url).resolve("prisma/build/index.js");

await Promise.all(
  ["postgresql", "mysql", "sqlite"].map(async (provider) => {
    const dir = new URL(`${provider}/`, root);
    await mkdir(dir, { recursive: true });
    const schema = new URL("schema.prisma", dir);
    const header = `generator client {\n  provider = "prisma-client"\n  output   = "./client"\n}\n\ndatasource db {\n  provider = "${provider}"\n}\n\n`;
    await writeFile(schema, header + prismaQueueModels(provider) + ORDER_MODEL);
    await run(process.execPath, [cli, "generate", "--schema", schema.pathname], {
      env: {
        ...process.env,
        PRISMA_SCHEMA_ENGINE_BINARY: "/bin/false",
        PRISMA_HIDE_UPDATE_MESSAGE: "1",
      },
    });
  }),
);
console.log("prisma clients generated in generated/{postgresql,mysql,sqlite}/client");

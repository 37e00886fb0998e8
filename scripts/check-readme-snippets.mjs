#!/usr/bin/env node
// Type-checks every TypeScript code block (```ts / ```typescript) in the READMEs
// (root, packages/*, examples/*) against the workspace packages, so a snippet that
// stops compiling fails `npm test` instead of reaching a user.
//
// Each block becomes one ES module (.mts) in node_modules/.cache/readme-snippets/
// (inside the repository, so `@persistent-queue/*`, drivers and ORMs resolve the
// way they do for the examples) and all of them are compiled in one `tsc` run with
// the repository's strict settings. Packages resolve to their built types: run
// `npm run build` first (`npm test` does).
//
// A block must compile on its own: import what it uses, and `declare` what the
// reader supplies (`declare const jobs: JobDefinition[]`). A fragment that cannot
// (a sketch of a signature, a diff) opts out with an explicit marker on its fence:
// ```ts no-check
//
// One fixture: a snippet importing a generated Prisma client from "./generated/client/client.js"
// gets the one examples/prisma-postgres generates from its schema (Order + the queue's models),
// generated here first if missing, offline, as the example does.
//
// Usage: node scripts/check-readme-snippets.mjs [--keep] [README.md ...]
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "node_modules", ".cache", "readme-snippets");
const args = process.argv.slice(2);
const keep = args.includes("--keep");
const explicit = args.filter((a) => !a.startsWith("--"));

function readmes() {
  if (explicit.length > 0) return explicit.map((f) => resolve(f));
  const found = [join(root, "README.md")];
  for (const dir of ["packages", "examples"]) {
    for (const name of readdirSync(join(root, dir)).sort()) {
      const file = join(root, dir, name, "README.md");
      if (existsSync(file)) found.push(file);
    }
  }
  return found;
}

/** The ```ts blocks of one Markdown file: { line (1-based, first code line), code, skip }. */
function blocks(file) {
  const lines = readFileSync(file, "utf8").split("\n");
  const out = [];
  let open = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = /^(\s*)(```+|~~~+)\s*([\w-]*)\s*(.*)$/.exec(line);
    if (open === null) {
      if (fence) {
        const lang = fence[3].toLowerCase();
        open = {
          indent: fence[1].length,
          fence: fence[2],
          ts: lang === "ts" || lang === "typescript",
          skip: /\bno-check\b/.test(fence[4]),
          line: i + 2,
          body: [],
        };
      }
    } else if (fence?.[2].startsWith(open.fence) && fence[3] === "" && fence[4] === "") {
      if (open.ts) out.push({ line: open.line, code: open.body.join("\n"), skip: open.skip });
      open = null;
    } else {
      open.body.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)));
    }
  }
  if (open !== null) throw new Error(`${relative(root, file)}: a code block is never closed`);
  return out;
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const sources = new Map(); // snippet file name → { readme, line }
let skipped = 0;
for (const readme of readmes()) {
  const rel = relative(root, readme);
  for (const block of blocks(readme)) {
    if (block.skip) {
      skipped++;
      continue;
    }
    const name = `${rel.replace(/[^\w]+/g, "_")}_L${block.line}.mts`;
    // `export {}` makes a block without imports a module too (top-level await, own scope).
    writeFileSync(join(outDir, name), `${block.code}\nexport {};\n`);
    sources.set(name, { readme: rel, line: block.line });
  }
}

const usesPrismaClient = [...sources.keys()].some((name) =>
  readFileSync(join(outDir, name), "utf8").includes('"./generated/client/client.js"'),
);
if (usesPrismaClient) {
  const example = join(root, "examples", "prisma-postgres");
  if (!existsSync(join(example, "generated", "client", "client.ts"))) {
    const cli = createRequire(join(example, "package.json")).resolve("prisma/build/index.js");
    execFileSync(
      process.execPath,
      [cli, "generate", "--schema", join(example, "prisma", "schema.prisma")],
      {
        env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: "/bin/false" },
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
  }
  symlinkSync(join(example, "generated"), join(outDir, "generated"), "dir");
}

// The repository's @types/node is Node 20's, which has no node:sqlite. Until it is 22+, snippets
// importing DatabaseSync get it typed as the adapter's own interface says (its real type fits that
// interface: checked against @types/node 22 and 24 when the package was added).
const nodeSqliteTyped = existsSync(join(root, "node_modules", "@types", "node", "sqlite.d.ts"));
if (!nodeSqliteTyped) {
  writeFileSync(
    join(outDir, "node-sqlite.d.ts"),
    `declare module "node:sqlite" {
  import type { NodeSqliteDatabase } from "@persistent-queue/node-sqlite";
  export const DatabaseSync: new (
    path: string,
    options?: { readOnly?: boolean; open?: boolean; timeout?: number },
  ) => NodeSqliteDatabase & { readonly isOpen: boolean; readonly isTransaction: boolean };
}
`,
  );
}

writeFileSync(
  join(outDir, "tsconfig.json"),
  JSON.stringify(
    {
      extends: join(root, "tsconfig.base.json"),
      compilerOptions: {
        noEmit: true,
        declaration: false,
        sourceMap: false,
        // Snippets show one step and may leave a value unused.
        noUnusedLocals: false,
        noUnusedParameters: false,
        // Resolve the workspace's @types/node from the repository root.
        typeRoots: [join(root, "node_modules", "@types")],
      },
      include: ["*.mts", "*.d.ts"],
    },
    null,
    2,
  ),
);

const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const run = spawnSync(
  process.execPath,
  [tsc, "-p", join(outDir, "tsconfig.json"), "--pretty", "false"],
  {
    cwd: outDir,
    encoding: "utf8",
  },
);
const output = `${run.stdout}${run.stderr}`;
// Point each error at the README line it comes from.
const mapped = output.replace(/^([\w.-]+\.mts)\((\d+),(\d+)\)/gm, (all, name, line, col) => {
  const src = sources.get(name);
  return src ? `${src.readme}:${src.line + Number(line) - 1}:${col}` : all;
});
if (!keep && run.status === 0) rmSync(outDir, { recursive: true, force: true });
if (run.status !== 0) {
  process.stderr.write(mapped.endsWith("\n") ? mapped : `${mapped}\n`);
  process.stderr.write(
    `check-readme-snippets: README TypeScript blocks do not compile (${sources.size} checked; the generated files are in ${relative(root, outDir)}).\n`,
  );
  process.exit(1);
}
console.log(
  `check-readme-snippets: ${sources.size} TypeScript blocks compile (${skipped} marked no-check).`,
);

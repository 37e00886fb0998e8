/**
 * Packaging check for every publishable package: publint and
 * @arethetypeswrong/cli pass, and the packed tarball installs into an empty
 * project where both `require()` and `import()` load it and agree on its
 * exports. Runs after `npm run build` (the root `npm test` builds first).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import semver from "semver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name: string) => join(root, "node_modules", ".bin", name);

interface Manifest {
  name: string;
  private?: boolean;
  exports?: Record<string, unknown>;
}

/** Every entry point a package exports (".", "./adapter", …), as import specifiers; not its package.json. */
const entryPoints = (m: Manifest): string[] =>
  Object.keys(m.exports ?? { ".": null })
    .filter((key) => !key.endsWith(".json"))
    .map((key) => (key === "." ? m.name : `${m.name}/${key.slice(2)}`));
const packages = readdirSync(join(root, "packages"))
  .map((dir) => ({
    dir: join(root, "packages", dir),
    manifest: JSON.parse(
      readFileSync(join(root, "packages", dir, "package.json"), "utf8"),
    ) as Manifest,
  }))
  .filter((p) => !p.manifest.private);

let work: string;
const tarballs = new Map<string, string>();

beforeAll(() => {
  for (const p of packages) {
    if (!existsSync(join(p.dir, "dist")))
      throw new Error(`${p.manifest.name} is not built: run \`npm run build\` first.`);
  }
  work = mkdtempSync(join(tmpdir(), "pq-pack-"));
  for (const p of packages) {
    const out = execFileSync("npm", ["pack", "--silent", "--pack-destination", work], {
      cwd: p.dir,
      encoding: "utf8",
    });
    tarballs.set(p.manifest.name, join(work, out.trim().split("\n").pop()!));
  }
  const app = join(work, "app");
  execFileSync("mkdir", ["-p", app]);
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({ name: "smoke", private: true, version: "0.0.0" }),
  );
  // Drivers are peer dependencies that the adapters only type against; skip them to stay offline-friendly.
  execFileSync(
    "npm",
    ["install", "--silent", "--no-audit", "--no-fund", "--legacy-peer-deps", ...tarballs.values()],
    {
      cwd: app,
      stdio: "pipe",
    },
  );
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * publint and attw read the package files, not the running Node: CI runs them once, on Node 24
 * (`npm test`), and its lighter lines set PQ_PACKAGE_CHECKS=load to run only what depends on
 * the Node line (installing the tarballs and loading every entry point).
 */
const loadOnly = process.env.PQ_PACKAGE_CHECKS === "load";

describe.each(packages.map((p) => [p.manifest.name, p] as const))("%s", (name, p) => {
  it.skipIf(loadOnly)("passes publint", () => {
    const out = execFileSync(bin("publint"), ["--strict", p.dir], { encoding: "utf8" });
    expect(out).not.toMatch(/error|warning/i);
  });

  it.skipIf(loadOnly)(
    "passes @arethetypeswrong/cli (types resolve for require and import)",
    () => {
      execFileSync(bin("attw"), [tarballs.get(name)!, "--format", "ascii"], {
        encoding: "utf8",
        stdio: "pipe",
      });
    },
    60_000,
  );

  it.each(entryPoints(p.manifest))(
    "%s loads from the packed tarball with require() and import(), with the same exports",
    (specifier) => {
      const app = join(work, "app");
      const cjs = execFileSync(
        "node",
        [
          "-e",
          `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(specifier)})).sort()))`,
        ],
        { cwd: app, encoding: "utf8" },
      );
      const esm = execFileSync(
        "node",
        [
          "--input-type=module",
          "-e",
          `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m).sort()))`,
        ],
        { cwd: app, encoding: "utf8" },
      );
      const keys = JSON.parse(cjs) as string[];
      expect(keys.length).toBeGreaterThan(0);
      expect(JSON.parse(esm)).toEqual(keys);
    },
  );
});

// The kit is a second entry point: its errors must be the main entry's classes, or an
// adapter's TransactionMisuseError would fail `instanceof` (tsup must share chunks for CJS too).
describe("@persistent-queue/core/adapter", () => {
  const probe = `const gate = kit.sqliteGate({});
    const err = await gate.hold("probe", 0, () => gate.hold("probe", 0, async () => 0)).catch((e) => e);
    console.log(err instanceof core.TransactionMisuseError);`;
  it.each([
    [
      "require",
      `const core = require("@persistent-queue/core"), kit = require("@persistent-queue/core/adapter"); (async () => { ${probe} })();`,
    ],
    [
      "import",
      `const core = await import("@persistent-queue/core"), kit = await import("@persistent-queue/core/adapter"); ${probe}`,
    ],
  ])("throws the main entry's error classes under %s()", (how, code) => {
    const args = how === "import" ? ["--input-type=module", "-e", code] : ["-e", code];
    const out = execFileSync("node", args, { cwd: join(work, "app"), encoding: "utf8" });
    expect(out.trim()).toBe("true");
  });
});

// The CLI opens a sqlite: URL through better-sqlite3 when it is installed, else through Node's
// built-in node:sqlite. The smoke app has every adapter package and no driver (the symlink
// below comes later): on Node 22.13+ it must work with nothing compiled, on Node 20 it must
// say what to install.
describe("persistent-queue (the CLI) on a sqlite: URL without better-sqlite3 installed", () => {
  const builtin = process.getBuiltinModule?.("node:sqlite") !== undefined;
  const cli = (...args: string[]) => {
    try {
      const stdout = execFileSync(
        "node",
        [
          join(
            work,
            "app",
            "node_modules",
            "@persistent-queue",
            "cli",
            "bin",
            "persistent-queue.js",
          ),
          ...args,
        ],
        {
          cwd: join(work, "app"),
          encoding: "utf8",
          stdio: "pipe",
          env: { ...process.env, NO_COLOR: "1" },
        },
      );
      return { code: 0, stdout, stderr: "" };
    } catch (error) {
      const e = error as { status: number; stdout: string; stderr: string };
      return { code: e.status, stdout: e.stdout, stderr: e.stderr };
    }
  };
  it.runIf(builtin)("migrates and reads the file through node:sqlite (Node 22.13+)", () => {
    expect(existsSync(join(work, "app", "node_modules", "better-sqlite3"))).toBe(false);
    const url = `sqlite:${join(work, "cli.sqlite")}`;
    const migrated = cli("migrate", "--db", url);
    expect(migrated.code, migrated.stderr).toBe(0);
    const stats = cli("stats", "--json", "--db", url);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ total: 0 });
  });
  it.runIf(!builtin)("names what to install, and no node:sqlite choice (Node 20)", () => {
    const run = cli("migrate", "--db", `sqlite:${join(work, "cli.sqlite")}`);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/needs @persistent-queue\/better-sqlite3 and better-sqlite3/);
    expect(run.stderr).not.toMatch(/node-sqlite/);
  });
});

// @opentelemetry/api is an optional peer: the smoke app (installed without peers) does not
// have it, and a queue must run there, from either build, with no telemetry and no error.
describe("@persistent-queue/core without @opentelemetry/api installed", () => {
  const script = `const { PersistentQueue, JobStatus, prometheusMetrics } = core;
    const { fromBetterSqlite3 } = sqlite;
    let resolvable = true;
    try { createRequire(process.cwd() + "/").resolve("@opentelemetry/api"); } catch { resolvable = false; }
    const database = new Database(":memory:");
    const db = fromBetterSqlite3(database);
    const queue = new PersistentQueue({ db, serviceName: "smoke", pollInterval: 50,
      jobs: [{ jobType: 1, name: "smoke", handleJob: async () => JobStatus.Success }] });
    await queue.migrate();
    await queue.start();
    const id = await queue.add(1, {});
    const outcome = await queue.waitFor(id, { timeout: "10s" });
    const text = await prometheusMetrics(db);
    await queue.stop();
    database.close();
    console.log(JSON.stringify({ resolvable, status: outcome.status,
      counted: text.includes('persistent_queue_jobs{job_type="1",status="success"} 1') }));`;
  beforeAll(() => {
    // The driver only (its own dependencies resolve from the monorepo through its real path).
    execFileSync("ln", [
      "-sfn",
      join(root, "node_modules", "better-sqlite3"),
      join(work, "app", "node_modules", "better-sqlite3"),
    ]);
  });
  it.each([
    [
      "require",
      `const { createRequire } = require("node:module"); const core = require("@persistent-queue/core"), sqlite = require("@persistent-queue/better-sqlite3"), Database = require("better-sqlite3"); (async () => { ${script} })();`,
    ],
    [
      "import",
      `import { createRequire } from "node:module"; const core = await import("@persistent-queue/core"), sqlite = await import("@persistent-queue/better-sqlite3"), { default: Database } = await import("better-sqlite3"); ${script}`,
    ],
  ])(
    "runs a job and writes Prometheus text under %s()",
    (how, code) => {
      const args = how === "import" ? ["--input-type=module", "-e", code] : ["-e", code];
      const out = execFileSync("node", args, { cwd: join(work, "app"), encoding: "utf8" });
      expect(JSON.parse(out.trim())).toEqual({ resolvable: false, status: 1, counted: true });
    },
    30_000,
  );
});

// Issue 2: a minor (or patch) release of core must not force a major on the adapters.
// Changesets bumps a peer dependent to major when the new core version leaves its peer range.
describe("core's peer range in every adapter", () => {
  const core = packages.find((p) => p.manifest.name === "@persistent-queue/core")!;
  const coreVersion = (core.manifest as Manifest & { version: string }).version;
  const adapters = packages.filter((p) => p.manifest.name !== "@persistent-queue/core");
  it.each(adapters.map((p) => [p.manifest.name, p] as const))(
    "%s accepts core's next patch and minor release",
    (_name, p) => {
      const range = (p.manifest as Manifest & { peerDependencies?: Record<string, string> })
        .peerDependencies?.["@persistent-queue/core"];
      expect(range, "the adapter declares core as a peer dependency").toBeDefined();
      for (const release of ["patch", "minor"] as const) {
        const next = semver.inc(coreVersion, release)!;
        expect(semver.satisfies(next, range!), `${next} in ${range}`).toBe(true);
      }
    },
  );
});

// node:sqlite (Node 22.13+): the adapter from the packed tarball runs a job under require() and
// import(); it needs no driver installed. On Node 20 it only loads (checked above).
const hasNodeSqlite = (() => {
  try {
    execFileSync("node", ["-e", "require('node:sqlite')"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
})();
describe.skipIf(!hasNodeSqlite)(
  `@persistent-queue/node-sqlite on ${process.version}'s node:sqlite`,
  () => {
    const script = `const { PersistentQueue, JobStatus } = core;
    const database = new DatabaseSync(":memory:");
    const queue = new PersistentQueue({ db: adapter.fromNodeSqlite(database), serviceName: "smoke",
      pollInterval: 50, jobs: [{ jobType: 1, name: "smoke", handleJob: async () => JobStatus.Success }] });
    await queue.migrate();
    await queue.start();
    const outcome = await queue.waitFor(await queue.add(1, {}), { timeout: "10s" });
    await queue.stop();
    database.close();
    console.log(JSON.stringify({ status: outcome.status }));`;
    it.each([
      [
        "require",
        `const core = require("@persistent-queue/core"), adapter = require("@persistent-queue/node-sqlite"), { DatabaseSync } = require("node:sqlite"); (async () => { ${script} })();`,
      ],
      [
        "import",
        `const core = await import("@persistent-queue/core"), adapter = await import("@persistent-queue/node-sqlite"), { DatabaseSync } = await import("node:sqlite"); ${script}`,
      ],
    ])(
      "runs a job under %s()",
      (how, code) => {
        const args = how === "import" ? ["--input-type=module", "-e", code] : ["-e", code];
        const out = execFileSync("node", args, { cwd: join(work, "app"), encoding: "utf8" });
        expect(JSON.parse(out.trim())).toEqual({ status: 1 });
      },
      30_000,
    );
  },
);

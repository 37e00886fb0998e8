// The Go library reads async_job_tab with SELECT * and scans 7 fields; the queue's added
// columns are INVISIBLE for that (migration 3). The converse must hold too: nothing in
// core may rely on SELECT * (it would miss the invisible columns) or on an INSERT without
// a column list (it would have to list the invisible ones, and breaks on any new column).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("..", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [path] : [];
  });
}

describe("core's SQL and the Go library's readers", () => {
  // Comments and messages may name SELECT * (to explain INVISIBLE); statements may not.
  const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  const files = sources(SRC).map((path) => ({ path, text: code(readFileSync(path, "utf8")) }));

  it("reads the source of every statement module", () => {
    const names = files.map((f) => f.path.slice(SRC.length));
    expect(names).toEqual(expect.arrayContaining(["statements/jobs.ts", "dialects/claim.ts"]));
  });

  it("never selects * and never inserts without a column list", () => {
    for (const { path, text } of files) {
      expect([path, text.match(/SELECT\s+(\w+\.)?\*\s+FROM/gi)]).toEqual([path, null]);
      // INSERT INTO <table> followed directly by VALUES or SELECT: no column list.
      expect([path, text.match(/INSERT\s+INTO\s+\S+\s+(VALUES|SELECT)\b/gi)]).toEqual([path, null]);
    }
  });
});

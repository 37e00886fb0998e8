/** The installed version of a package, read from its package.json (some packages do not export it). */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

/** `name` as installed; `realName`: the package's own name when it is installed under an npm alias. */
export function installedVersion(name: string, realName = name): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === realName) return pkg.version ?? "?";
    }
    const up = dirname(dir);
    if (up === dir) return "?";
    dir = up;
  }
}

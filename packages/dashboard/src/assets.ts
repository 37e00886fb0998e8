import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

/**
 * Where the built browser app is: dist/ui beside the built module, or (when
 * the module runs from src/, as in the repository's tests) the package's dist/ui.
 */
export function defaultAssetsDir(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  for (const dir of [join(here, "ui"), join(here, "..", "dist", "ui")]) {
    if (existsSync(join(dir, "index.html"))) return dir;
  }
  return join(here, "ui");
}

/** A file of the built app. */
export interface Asset {
  readonly body: Uint8Array;
  readonly contentType: string;
  /** Vite's hashed files under assets/ never change: cached for a year; index.html never. */
  readonly immutable: boolean;
}

/**
 * Reads `path` (relative to `dir`, e.g. "assets/index-abc123.js") from the
 * built app, or undefined when there is no such file. Paths that leave `dir`
 * are refused. Files are read once and kept (a few hundred kB in all).
 */
export class AssetStore {
  readonly #dir: string;
  readonly #cache = new Map<string, Promise<Asset | undefined>>();

  constructor(dir: string) {
    this.#dir = normalize(dir);
  }

  get(path: string): Promise<Asset | undefined> {
    let hit = this.#cache.get(path);
    if (!hit) {
      hit = this.#read(path);
      this.#cache.set(path, hit);
      // A missing file is not cached: the app may be built later (in development).
      hit.then((a) => a ?? this.#cache.delete(path));
    }
    return hit;
  }

  async #read(path: string): Promise<Asset | undefined> {
    if (path.includes("\0")) return undefined;
    const full = normalize(join(this.#dir, path));
    if (!full.startsWith(this.#dir + sep)) return undefined;
    const type = CONTENT_TYPES[extname(full)];
    if (!type) return undefined;
    try {
      const body = await readFile(full);
      return { body, contentType: type, immutable: path.startsWith("assets/") };
    } catch {
      return undefined;
    }
  }
}

import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The browser app, built into dist/ui and served by the handler from disk.
// `base: "./"`: every URL in the page is relative, so it works under any basePath.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("../dist/ui", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    // No inlined data: URLs for scripts; the page's CSP allows 'self' only.
    assetsInlineLimit: 0,
    target: "es2022",
    reportCompressedSize: false,
  },
});

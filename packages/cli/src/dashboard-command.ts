import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { countJobs } from "@persistent-queue/core";
import { type Context, type GlobalOptions, withQueue } from "./context.js";
import { CliError, ExitCode } from "./errors.js";

/** The flags of `persistent-queue dashboard`. */
export interface DashboardFlags extends GlobalOptions {
  readonly port: number;
  readonly host: string;
  readonly readOnly?: boolean;
  readonly basePath?: string;
}

const isModuleNotFound = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
};

/**
 * Serves @persistent-queue/dashboard on Node's http at `host:port` until
 * SIGINT or SIGTERM, then closes the server and the database and resolves.
 * The dashboard package is an optional peer dependency, loaded here only.
 * The tables are checked before listening, so "run migrate first" comes now,
 * not at the first page load.
 */
export async function serveDashboard(ctx: Context, flags: DashboardFlags): Promise<void> {
  let dashboard: typeof import("@persistent-queue/dashboard");
  try {
    dashboard = await import("@persistent-queue/dashboard");
  } catch (error) {
    if (!isModuleNotFound(error)) throw error;
    throw new CliError(
      "ERR_PQ_CLI_DASHBOARD_MISSING",
      ExitCode.Usage,
      "the dashboard needs @persistent-queue/dashboard, which could not be loaded: install it next to @persistent-queue/cli (npm install @persistent-queue/dashboard).",
      { cause: error },
    );
  }
  await withQueue(ctx, flags, async ({ db, tables }) => {
    let app: ReturnType<typeof dashboard.createDashboard>;
    try {
      app = dashboard.createDashboard({
        db,
        tables,
        readOnly: flags.readOnly === true,
        ...(flags.basePath !== undefined && { basePath: flags.basePath }),
      });
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      throw new CliError("ERR_PQ_CLI_USAGE", ExitCode.Usage, `--base-path: ${error.message}`);
    }
    try {
      await countJobs(db, { tables }); // the tables are there and current: fail now, not per page
    } catch (error) {
      await app.close();
      throw error;
    }
    const server = createServer(dashboard.toNodeListener(app));
    server.listen(flags.port, flags.host);
    try {
      await Promise.race([
        once(server, "listening"),
        once(server, "error").then(([error]) => {
          throw error;
        }),
      ]);
    } catch (error) {
      await app.close();
      throw new CliError(
        "ERR_PQ_CLI_LISTEN",
        ExitCode.Failed,
        `cannot listen on ${flags.host}:${flags.port}: ${error instanceof Error ? error.message : String(error)}. Pick another --port or --host.`,
        { cause: error },
      );
    }
    const { port } = server.address() as AddressInfo;
    const host = flags.host.includes(":") ? `[${flags.host}]` : flags.host;
    ctx.io.out(
      `Dashboard at http://${host}:${port}${flags.basePath ?? ""}/${flags.readOnly ? " (read-only)" : ""}; Ctrl+C stops it.\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    server.close();
    server.closeAllConnections();
    await app.close();
    ctx.io.out("Dashboard stopped.\n");
  });
}

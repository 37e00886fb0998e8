import {
  type AnyJob,
  type DB,
  PROMETHEUS_CONTENT_TYPE,
  prometheusMetrics,
  type QueueWithMetrics,
  type TableNames,
} from "@persistent-queue/core";
import {
  DashboardApi,
  FINISHED_COUNTS_MAX_AGE_MS,
  JOB_ACTIONS,
  type JobActionName,
  parseBulkBody,
} from "./api.js";
import { AssetStore, defaultAssetsDir } from "./assets.js";
import { checkCsrf, newCsrfToken } from "./csrf.js";
import { badInput, DashboardHttpError } from "./errors.js";
import { parseId, parseJobType } from "./parse.js";

/**
 * What a request asks to do: `read` for the pages and every GET of the API,
 * `metrics` for `GET /metrics` (Prometheus text; a scraper often has no
 * session, so it is decided apart), else the write it makes.
 */
export type DashboardAction =
  | "read"
  | "metrics"
  | "retry"
  | "cancel"
  | "promote"
  | "remove"
  | "pause"
  | "resume";

/** The writes (every {@link DashboardAction} but `read`). */
export type DashboardWriteAction = Exclude<DashboardAction, "read" | "metrics">;

const WRITE_ACTIONS: readonly DashboardWriteAction[] = [...JOB_ACTIONS, "pause", "resume"];

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /** The queue's database, from any adapter (the tables must be migrated). */
  readonly db: DB;
  /**
   * The path the dashboard is served under, e.g. "/queues" (no trailing
   * slash); default "" (the root). Requests outside it get 404.
   */
  readonly basePath?: string;
  /** Refuse every write (403) and hide the write buttons. Default false. */
  readonly readOnly?: boolean;
  /**
   * Decides per request and action: `read` for pages and every GET of the
   * API, else the write. Return false to refuse (403). Default: allow all
   * (put the dashboard behind your own authentication).
   */
  readonly authorize?: (request: Request, action: DashboardAction) => boolean | Promise<boolean>;
  /** Table names, as the queue's `tables` option. */
  readonly tables?: Partial<TableNames>;
  /**
   * The anti-forgery token writes must carry in `x-pq-csrf`. Default: random
   * per createDashboard() call. Give the same secret to every process behind
   * one load balancer, so a page from one process can write through another.
   */
  readonly csrfToken?: string;
  /**
   * Queues of this process whose counters and duration histogram `GET /metrics`
   * adds to the table's gauges (see `prometheusMetrics` in core). Default none.
   */
  readonly queues?: readonly QueueWithMetrics[];
  /**
   * The queue's job definitions (`defineJob()`, with or without handlers: none runs
   * here), so that the pages show each type's name and `jobs?type=` takes names too.
   * Default none: types are shown by their integers.
   */
  readonly jobs?: readonly AnyJob[];
}

/** A Fetch handler: takes a Request, resolves a Response. */
export type DashboardHandler = (request: Request) => Promise<Response>;

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "SAMEORIGIN",
};

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...SECURITY_HEADERS,
    },
  });

/** Most bytes a request body may have (a bulk action of 500 ids is ~5 kB). */
const MAX_BODY = 64 * 1024;

/**
 * The dashboard as one Fetch handler: the page at `${basePath}/`, its files
 * at `${basePath}/assets/…`, and the JSON API at `${basePath}/api/…`.
 * Mount it in any server that speaks Fetch (Hono, Bun, Deno), or through
 * {@link toNodeListener}, {@link expressDashboard} or {@link fastifyDashboard}.
 *
 * API (JSON; errors are `{ error: { code, message, field? } }`):
 * - `GET api/session`: `{ csrfToken, readOnly, can }` (which writes this user may make)
 * - `GET api/overview`: counts per type and status, paused types, oldest waiting, throughput
 * - `GET api/jobs?type=&status=&search=&createdFrom=&createdTo=&updatedFrom=&updatedTo=&limit=&cursor=`
 * - `GET api/jobs/:id`; `POST api/jobs/:id/(retry|cancel|promote|remove)`
 * - `POST api/jobs/bulk` with `{ action, ids }`: an outcome per id
 * - `POST api/types/:type/(pause|resume)`; `GET api/schedules`; `GET api/locks`
 * - `GET metrics`: Prometheus text (`prometheusMetrics` of core), decided by `authorize(request, "metrics")`
 *
 * Writes are POST only, need the `x-pq-csrf` header (see `checkCsrf`), and
 * are refused when `readOnly` or when `authorize` says no.
 */
export function createDashboard(options: DashboardOptions): DashboardHandler & {
  /** Stops the dashboard's internal queue (lets a pending NOTIFY go out); the DB stays open. */
  close(): Promise<void>;
} {
  const basePath = checkBasePath(options.basePath ?? "");
  const readOnly = options.readOnly === true;
  const authorize = options.authorize;
  const token = options.csrfToken ?? newCsrfToken();
  const api = new DashboardApi(options.db, options.tables ?? {}, options.jobs ?? []);
  const assets = new AssetStore(defaultAssetsDir());

  const allowed = async (request: Request, action: DashboardAction) =>
    authorize === undefined || (await authorize(request, action)) === true;

  // Method, read-only and forgery checks come before the body is read.
  const guardWrite = (request: Request, action: string) => {
    if (request.method !== "POST")
      throw new DashboardHttpError(405, "ERR_PQ_DASHBOARD_METHOD", `${action} is a POST.`);
    if (readOnly)
      throw new DashboardHttpError(
        403,
        "ERR_PQ_DASHBOARD_READ_ONLY",
        `this dashboard is read-only: ${action} is refused.`,
      );
    checkCsrf(request, token);
  };
  const requireWrite = async (request: Request, action: DashboardWriteAction) => {
    guardWrite(request, action);
    if (!(await allowed(request, action)))
      throw new DashboardHttpError(
        403,
        "ERR_PQ_DASHBOARD_FORBIDDEN",
        `you may not ${action} here.`,
      );
  };

  const requireRead = async (request: Request, action: "read" | "metrics" = "read") => {
    if (request.method !== "GET" && request.method !== "HEAD")
      throw new DashboardHttpError(405, "ERR_PQ_DASHBOARD_METHOD", "this is read with GET.");
    if (!(await allowed(request, action)))
      throw new DashboardHttpError(
        403,
        "ERR_PQ_DASHBOARD_FORBIDDEN",
        "you may not read this dashboard.",
      );
  };

  async function route(request: Request, path: string): Promise<Response> {
    const parts = path.split("/").filter((p) => p !== "");
    const [head, a, b, c] = parts;

    if (head === "metrics" && parts.length === 1) {
      await requireRead(request, "metrics");
      const text = await prometheusMetrics(options.db, {
        ...(options.tables && { tables: options.tables }),
        ...(options.queues && { queues: options.queues }),
        finishedMaxAgeMs: FINISHED_COUNTS_MAX_AGE_MS,
      });
      return new Response(request.method === "HEAD" ? null : text, {
        headers: {
          "content-type": PROMETHEUS_CONTENT_TYPE,
          "cache-control": "no-store",
          ...SECURITY_HEADERS,
        },
      });
    }

    if (head !== "api") {
      await requireRead(request);
      const file = path === "/" ? "index.html" : path.slice(1);
      const asset = await assets.get(file);
      if (!asset) {
        if (path === "/")
          throw new DashboardHttpError(
            500,
            "ERR_PQ_DASHBOARD_INTERNAL",
            "the dashboard's page is not built: run the package's build (dist/ui).",
          );
        throw notFound(path);
      }
      return new Response(request.method === "HEAD" ? null : asset.body, {
        headers: {
          "content-type": asset.contentType,
          "cache-control": asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
          ...SECURITY_HEADERS,
          ...(file === "index.html" && {
            "content-security-policy":
              "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
          }),
        },
      });
    }

    const query = new URL(request.url).searchParams;
    switch (a) {
      case "session":
        if (parts.length !== 2) break;
        await requireRead(request);
        return json({
          csrfToken: token,
          readOnly,
          types: api.typeNames(),
          can: Object.fromEntries(
            await Promise.all(
              WRITE_ACTIONS.map(
                async (w) => [w, !readOnly && (await allowed(request, w))] as const,
              ),
            ),
          ),
        });
      case "overview":
        if (parts.length !== 2) break;
        await requireRead(request);
        return json(await api.overview());
      case "schedules":
        if (parts.length !== 2) break;
        await requireRead(request);
        return json({ schedules: await api.schedules() });
      case "locks":
        if (parts.length !== 2) break;
        await requireRead(request);
        return json({ locks: await api.locks() });
      case "jobs": {
        if (parts.length === 2) {
          await requireRead(request);
          return json(await api.jobs(query));
        }
        if (b === "bulk" && parts.length === 3) {
          // The action is known only from the body: method and CSRF first, then authorize.
          guardWrite(request, "bulk");
          const { action, ids } = parseBulkBody(await readJson(request));
          await requireWrite(request, action);
          return json({ action, results: await api.bulk(action, ids) });
        }
        if (parts.length === 3) {
          await requireRead(request);
          return json(await api.job(b!));
        }
        if (parts.length === 4 && JOB_ACTIONS.includes(c as JobActionName)) {
          const action = c as JobActionName;
          const id = parseId(b);
          await requireWrite(request, action);
          const result = await api.act(action, id);
          const status =
            result.outcome === "not-found"
              ? 404
              : result.outcome === "applied" || result.outcome === "skipped"
                ? 200
                : 409;
          return json({ action, ...result }, status);
        }
        break;
      }
      case "types": {
        if (parts.length === 4 && (c === "pause" || c === "resume")) {
          const jobType = parseJobType(b!, "type");
          await requireWrite(request, c);
          return json(await api.setPaused(jobType, c === "pause"));
        }
        break;
      }
    }
    throw notFound(path);
  }

  const handler = async (request: Request): Promise<Response> => {
    try {
      const url = new URL(request.url);
      let path = url.pathname;
      if (basePath !== "") {
        if (path === basePath) {
          // Relative: right whatever prefix a framework stripped before us.
          const last = basePath.slice(basePath.lastIndexOf("/") + 1);
          return new Response(null, {
            status: 308,
            headers: { location: `${last}/${url.search}`, ...SECURITY_HEADERS },
          });
        }
        if (!path.startsWith(`${basePath}/`)) throw notFound(path);
        path = path.slice(basePath.length);
      }
      return await route(request, path);
    } catch (error) {
      if (error instanceof DashboardHttpError) return json(error.toBody(), error.status);
      const message = error instanceof Error ? error.message : String(error);
      return json(
        { error: { code: "ERR_PQ_DASHBOARD_INTERNAL", message } },
        isSchemaError(error) ? 503 : 500,
      );
    }
  };
  return Object.assign(handler, { close: () => api.close() });
}

function isSchemaError(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ERR_PQ_SCHEMA_VERSION";
}

const notFound = (path: string) =>
  new DashboardHttpError(404, "ERR_PQ_DASHBOARD_NOT_FOUND", `nothing at ${path} in the dashboard.`);

function checkBasePath(basePath: string): string {
  if (basePath === "" || basePath === "/") return "";
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(basePath))
    throw new TypeError(
      `basePath must be "" or a path like "/queues" (segments of letters, digits, ".", "_", "~", "-", no trailing slash); got ${JSON.stringify(basePath)}.`,
    );
  return basePath;
}

async function readJson(request: Request): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.startsWith("application/json"))
    throw badInput("body", "send JSON with Content-Type: application/json.");
  const text = await request.text();
  if (text.length > MAX_BODY) throw badInput("body", `is over ${MAX_BODY} bytes.`);
  try {
    return JSON.parse(text);
  } catch {
    throw badInput("body", "is not valid JSON.");
  }
}

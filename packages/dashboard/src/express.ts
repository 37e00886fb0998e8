import type { IncomingMessage, ServerResponse } from "node:http";
import type { DashboardHandler } from "./handler.js";
import { sendResponse, toRequest } from "./node.js";

/** The part of Express's request the middleware reads (Express itself is not a dependency). */
export interface ExpressLikeRequest extends IncomingMessage {
  /** The URL before Express stripped the mount path (`app.use("/queues", …)`). */
  readonly originalUrl?: string;
}

/**
 * The dashboard as Express middleware (Express 4 and 5):
 * `app.use("/queues", expressDashboard(createDashboard({ db, basePath: "/queues" })))`.
 * The handler sees the full URL (`originalUrl`), so `basePath` is the mount
 * path. Mount it before a body parser (express.json()) or on a path no body
 * parser covers: it reads the request body itself. Errors of reading the
 * request go to `next(error)`.
 */
export function expressDashboard(
  handler: DashboardHandler,
): (req: ExpressLikeRequest, res: ServerResponse, next: (error?: unknown) => void) => void {
  return (req, res, next) => {
    toRequest(req, req.originalUrl ?? req.url)
      .then(handler)
      .then((response) => sendResponse(response, res))
      .catch(next);
  };
}

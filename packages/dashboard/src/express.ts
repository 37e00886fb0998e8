import type { IncomingMessage, ServerResponse } from "node:http";
import type { DashboardHandler } from "./handler.js";
import { sendResponse, toRequest } from "./node.js";

/** The part of Express's request the middleware reads (Express itself is not a dependency). */
export interface ExpressLikeRequest extends IncomingMessage {
  /** The URL before Express stripped the mount path (`app.use("/queues", …)`). */
  readonly originalUrl?: string;
  /** What a body parser in front (express.json()) made of the body, if one ran. */
  readonly body?: unknown;
}

/**
 * The dashboard as Express middleware (Express 4 and 5):
 * `app.use("/queues", expressDashboard(createDashboard({ db, basePath: "/queues" })))`.
 * The handler sees the full URL (`originalUrl`), so `basePath` is the mount
 * path. It reads the request body itself; behind express.json() it takes the
 * parsed body instead. Errors of reading the request go to `next(error)`.
 */
export function expressDashboard(
  handler: DashboardHandler,
): (req: ExpressLikeRequest, res: ServerResponse, next: (error?: unknown) => void) => void {
  return (req, res, next) => {
    toRequest(req, req.originalUrl ?? req.url, req.body)
      .then(handler)
      .then((response) => sendResponse(response, res))
      .catch(next);
  };
}

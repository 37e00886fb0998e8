/**
 * @persistent-queue/dashboard: a web dashboard for persistent-queue as one
 * Fetch handler ({@link createDashboard}), with mounts for Node's http
 * ({@link toNodeListener}), Express ({@link expressDashboard}) and Fastify
 * ({@link fastifyDashboard}). Hono, Bun and Deno take the handler as it is.
 *
 * @packageDocumentation
 */

export type { ActionResult, JobActionName } from "./api.js";
export { MAX_BULK_IDS } from "./api.js";
export { CSRF_HEADER } from "./csrf.js";
export type { DashboardErrorBody, DashboardErrorCode } from "./errors.js";
export { type ExpressLikeRequest, expressDashboard } from "./express.js";
export {
  type FastifyLikeInstance,
  type FastifyLikeReply,
  type FastifyLikeRequest,
  fastifyDashboard,
} from "./fastify.js";
export {
  createDashboard,
  type DashboardAction,
  type DashboardHandler,
  type DashboardOptions,
  type DashboardWriteAction,
} from "./handler.js";
export { toNodeListener } from "./node.js";

import type { IncomingMessage } from "node:http";
import type { DashboardHandler } from "./handler.js";

/** The part of Fastify's request the plugin reads (Fastify itself is not a dependency). */
export interface FastifyLikeRequest {
  readonly raw: IncomingMessage;
  readonly body: unknown;
}

/** The part of Fastify's reply the plugin uses. */
export interface FastifyLikeReply {
  code(status: number): unknown;
  header(name: string, value: string): unknown;
  send(payload?: unknown): unknown;
}

/** The part of a Fastify instance the plugin uses. */
export interface FastifyLikeInstance {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(
    type: string,
    options: { parseAs: "buffer" },
    parser: (request: unknown, body: Buffer, done: (error: null, body: Buffer) => void) => void,
  ): void;
  route(options: {
    method: string[];
    url: string;
    handler: (request: FastifyLikeRequest, reply: FastifyLikeReply) => Promise<unknown>;
  }): unknown;
}

/**
 * The dashboard as a Fastify plugin (Fastify 4 and 5):
 * `app.register(fastifyDashboard(createDashboard({ db, basePath: "/queues" })), { prefix: "/queues" })`.
 * Give the same path as `prefix` and `basePath`. Inside the plugin (only
 * there: Fastify encapsulates it) request bodies are kept as raw bytes for the
 * handler to read.
 */
export function fastifyDashboard(
  handler: DashboardHandler,
): (fastify: FastifyLikeInstance) => Promise<void> {
  return async (fastify) => {
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) =>
      done(null, body),
    );
    const serve = async (request: FastifyLikeRequest, reply: FastifyLikeReply) => {
      const raw = request.raw;
      const headers = new Headers();
      for (const [name, value] of Object.entries(raw.headers)) {
        if (value === undefined) continue;
        if (Array.isArray(value)) for (const v of value) headers.append(name, v);
        else headers.set(name, value);
      }
      const encrypted = (raw.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
      const url = new URL(
        raw.url ?? "/",
        `${encrypted ? "https" : "http"}://${raw.headers.host ?? "localhost"}`,
      );
      const method = raw.method ?? "GET";
      const body =
        method !== "GET" && method !== "HEAD" && Buffer.isBuffer(request.body)
          ? request.body
          : undefined;
      const response = await handler(
        new Request(url, { method, headers, ...(body !== undefined && { body }) }),
      );
      reply.code(response.status);
      response.headers.forEach((value, name) => {
        reply.header(name, value);
      });
      return reply.send(Buffer.from(await response.arrayBuffer()));
    };
    fastify.route({ method: ["GET", "POST"], url: "/", handler: serve });
    fastify.route({ method: ["GET", "POST"], url: "/*", handler: serve });
  };
}

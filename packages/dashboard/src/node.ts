import type { IncomingMessage, ServerResponse } from "node:http";
import type { DashboardHandler } from "./handler.js";

/** Most bytes of a request body the mounts read (the API takes far less). */
const MAX_BODY = 1024 * 1024;

/**
 * A Request from Node's request: the URL from `url` (default `req.url`) and the
 * Host header, the headers, and for POST the body: read here, or, when a body
 * parser in front already read the stream, `parsedBody` (JSON-encoded again).
 */
export async function toRequest(
  req: IncomingMessage,
  url = req.url ?? "/",
  parsedBody?: unknown,
): Promise<Request> {
  const host = req.headers.host ?? "localhost";
  const encrypted = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const method = req.method ?? "GET";
  let body: Buffer | undefined;
  if (method !== "GET" && method !== "HEAD" && req.readableEnded) {
    // A body parser in front (express.json()) read the stream: take what it parsed.
    body =
      parsedBody === undefined
        ? Buffer.alloc(0)
        : Buffer.isBuffer(parsedBody)
          ? parsedBody
          : Buffer.from(typeof parsedBody === "string" ? parsedBody : JSON.stringify(parsedBody));
    headers.delete("content-length");
  } else if (method !== "GET" && method !== "HEAD") {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) throw new Error("request body too large");
      chunks.push(chunk);
    }
    body = Buffer.concat(chunks);
  }
  return new Request(new URL(url, `${encrypted ? "https" : "http"}://${host}`), {
    method,
    headers,
    ...(body !== undefined && { body }),
  });
}

/** Writes a Fetch Response to Node's response. */
export async function sendResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    res.setHeader(name, value);
  });
  const body = response.body === null ? undefined : Buffer.from(await response.arrayBuffer());
  res.end(body);
}

/**
 * The dashboard as a Node `http` request listener:
 * `http.createServer(toNodeListener(createDashboard({ db })))`.
 * Requests the handler cannot take (a body over 1 MB) get 413.
 */
export function toNodeListener(
  handler: DashboardHandler,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    toRequest(req)
      .then(handler)
      .then((response) => sendResponse(response, res))
      .catch(() => {
        if (!res.headersSent) res.statusCode = 413;
        res.end();
      });
  };
}

import { randomBytes, timingSafeEqual } from "node:crypto";
import { DashboardHttpError } from "./errors.js";

/** The request header a write must carry, holding the token from `GET api/session`. */
export const CSRF_HEADER = "x-pq-csrf";

/** A fresh token: 32 random bytes, base64url. */
export const newCsrfToken = (): string => randomBytes(32).toString("base64url");

/**
 * Refuses a write that another site could have made a browser send. Three
 * checks, each enough against a cross-site form or fetch on its own, kept
 * together for old browsers and odd proxies:
 * - `Sec-Fetch-Site`, when the browser sends it, must be `same-origin`;
 * - `Origin`, when present, must name the host the request was sent to (Host,
 *   or X-Forwarded-Host from a proxy);
 * - the `x-pq-csrf` header must hold the dashboard's token. A page on another
 *   site can neither read the token (`GET api/session` sends no CORS headers)
 *   nor send a custom header cross-origin without a CORS preflight, which this
 *   handler never grants.
 */
export function checkCsrf(request: Request, token: string): void {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin")
    throw refused(`the request came from another site (Sec-Fetch-Site: ${site}).`);
  const origin = request.headers.get("origin");
  if (origin !== null) {
    const host = request.headers.get("host") ?? new URL(request.url).host;
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    // A proxy that rewrites Host passes the original in X-Forwarded-Host. Trusting it
    // here opens nothing: a cross-site page cannot set that header without a preflight.
    const forwarded = request.headers.get("x-forwarded-host")?.split(",")[0]?.trim();
    if (originHost !== host && (forwarded === undefined || originHost !== forwarded))
      throw refused(
        `the request's Origin (${origin}) is not this dashboard's host (${forwarded ?? host}); a proxy in front must pass Host or X-Forwarded-Host on.`,
      );
  }
  const given = request.headers.get(CSRF_HEADER);
  if (given === null || !same(given, token))
    throw refused(
      `a write needs the ${CSRF_HEADER} header holding the csrfToken of GET api/session (the dashboard's page sends it).`,
    );
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const refused = (why: string) =>
  new DashboardHttpError(
    403,
    "ERR_PQ_DASHBOARD_CSRF",
    `write refused as a possible cross-site request: ${why}`,
  );

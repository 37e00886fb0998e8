/**
 * Loading `@opentelemetry/api`, an optional peer dependency: once per process,
 * by a dynamic `import()` that works from the ESM and the CommonJS build alike.
 * When the package is not installed the promise resolves undefined and every
 * telemetry call of the queue is a no-op (one `undefined` check).
 *
 * The API keeps its registered providers on `globalThis` (per major version),
 * so the copy loaded here sees the SDK an application registered through its
 * own `require()` or `import` of the package.
 */

/** The OpenTelemetry API module's shape, as this package uses it. */
export type OtelApi = typeof import("@opentelemetry/api");

let loading: Promise<OtelApi | undefined> | undefined;
let loaded: OtelApi | undefined;

/** Loads `@opentelemetry/api` once; undefined when it is not installed. */
export function loadOtelApi(): Promise<OtelApi | undefined> {
  loading ??= import("@opentelemetry/api").then(
    (m) => {
      // From CommonJS through import(), named exports may sit on `default`.
      const api = (m.trace ? m : (m as { default?: OtelApi }).default) as OtelApi | undefined;
      loaded = api?.trace ? api : undefined;
      return loaded;
    },
    () => undefined,
  );
  return loading;
}

/** The API if {@link loadOtelApi} has finished loading it (for synchronous callers). */
export function loadedOtelApi(): OtelApi | undefined {
  return loaded;
}

/** The longest trace context stored: the `trace_context VARCHAR(255)` column. */
export const MAX_TRACE_CONTEXT_LENGTH = 255;

/**
 * A propagation carrier as the `trace_context` column keeps it: compact JSON
 * (`{"traceparent":"00-…"}` with the W3C propagator; whatever keys the
 * application's propagator writes). Keys are dropped from the end until it fits,
 * `traceparent` first kept; undefined when the carrier is empty or does not fit.
 */
export function encodeCarrier(carrier: Record<string, string>): string | undefined {
  const keys = Object.keys(carrier).sort((a, b) =>
    a === "traceparent" ? -1 : b === "traceparent" ? 1 : 0,
  );
  while (keys.length > 0) {
    const picked: Record<string, string> = {};
    for (const k of keys) picked[k] = carrier[k]!;
    const text = JSON.stringify(picked);
    if (text.length <= MAX_TRACE_CONTEXT_LENGTH) return text;
    keys.pop();
  }
  return undefined;
}

/** The carrier of a `trace_context` value; an empty one for NULL or text that is not a JSON object of strings. */
export function decodeCarrier(text: unknown): Record<string, string> {
  if (typeof text !== "string" || text === "") return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) if (typeof v === "string") out[k] = v;
    return out;
  } catch {
    return {};
  }
}

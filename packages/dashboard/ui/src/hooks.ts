import { useCallback, useEffect, useRef, useState } from "preact/hooks";

/** How often a page reads the API again (live refresh without reloading). */
export const POLL_MS = 3000;

export interface Polled<T> {
  data: T | undefined;
  error: string | undefined;
  /** Reads again now (after an action). */
  reload: () => void;
  /** When the data was last read. */
  at: Date | undefined;
}

/** Reads `load()` now and every POLL_MS while the page shows; again when `key` changes. */
export function usePoll<T>(load: () => Promise<T>, key: string): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [at, setAt] = useState<Date>();
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = () => {
      loadRef.current().then(
        (value) => {
          if (!live) return;
          setData(value);
          setError(undefined);
          setAt(new Date());
          timer = setTimeout(run, POLL_MS);
        },
        (e: unknown) => {
          if (!live) return;
          setError(e instanceof Error ? e.message : String(e));
          timer = setTimeout(run, POLL_MS);
        },
      );
    };
    run();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload, at };
}

/** The route in the URL's hash: "#/jobs?status=failed" → { path: "/jobs", query }. */
export interface Route {
  path: string;
  query: URLSearchParams;
}

function current(): Route {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path = "/", q = ""] = hash.split("?", 2);
  return { path, query: new URLSearchParams(q) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const on = () => setRoute(current());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

/** Goes to `path` with `query` (empty values left out). */
export function navigate(path: string, query?: Record<string, string | undefined>) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) q.set(k, v);
  const s = q.toString();
  location.hash = `#${path}${s ? `?${s}` : ""}`;
}

import {
  type AnyJob,
  type DB,
  type JobRecord,
  JobStatus,
  PersistentQueue,
  type QueueOptions,
} from "@persistent-queue/core";

/** What tests need of any queue, whatever its job types. */
export interface QueueHandle {
  getJob(id: number): Promise<JobRecord | undefined>;
  stop(options?: { timeoutMs?: number }): Promise<void>;
  start(): Promise<void>;
}

/** Polls `check` every 20 ms until it returns a truthy value; rejects with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T> | T,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until job `id` has a final status and returns its row. */
export function finalRecord(
  queue: QueueHandle,
  id: number,
  timeoutMs = 15_000,
): Promise<JobRecord> {
  return waitFor(
    `job ${id} to finish`,
    async () => {
      const r = await queue.getJob(id);
      return r && (r.status === JobStatus.Success || r.status === JobStatus.Failed) ? r : undefined;
    },
    timeoutMs,
  );
}

/** A queue with test-friendly timings; stopped by {@link stopAll}. */
export function makeQueue<const J extends readonly AnyJob[]>(
  db: DB,
  jobs: J,
  extra: Partial<QueueOptions<J>> = {},
): PersistentQueue<J> {
  return new PersistentQueue<J>({
    db,
    serviceName: "conformance",
    jobs,
    pollInterval: 100,
    ...extra,
  });
}

/** A deferred promise: resolve it from outside. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/**
 * Wraps a real DB and drops the statements that match `pattern` while
 * `blocked()` is true (they reject as a lost connection would): how tests
 * make a worker stall its heartbeats without stopping its process. Every
 * other statement reaches the real database.
 */
export function withFaults(db: DB, pattern: RegExp, blocked: () => boolean): DB {
  const guard = (sql: string) => {
    if (blocked() && pattern.test(sql)) throw new Error("injected fault: statement dropped");
  };
  const wrapped: DB = {
    dialect: db.dialect,
    exec: async (sql, params) => {
      guard(sql);
      return db.exec(sql, params);
    },
    query: async (sql, params) => {
      guard(sql);
      return db.query(sql, params);
    },
    ping: () => db.ping(),
    close: () => db.close(),
  };
  if (db.transaction) wrapped.transaction = (fn) => db.transaction!(fn);
  return wrapped;
}

/** What {@link intercept} does with one statement: nothing, run it late, fail it before it runs, or run it and lose its reply. */
export type Interception =
  | undefined
  | { readonly delayMs: number }
  | { readonly fail: "before" | "after" | "after-if-rows" };

/**
 * Wraps a real DB and lets a test decide, statement by statement, what the
 * network does to it: `decide(sql)` may delay it, drop it before it reaches
 * the server (a refused connection), or run it on the real database and then
 * throw as if the reply were lost (committed, never seen; with
 * "after-if-rows", only when it returned or changed rows). `listen` passes
 * through, after `beforeListen` resolves when given. Counts statements.
 */
export function intercept(
  db: DB,
  decide: (sql: string) => Interception,
  options: { beforeListen?: () => Promise<void> } = {},
): DB & { readonly started: () => number; readonly inFlight: () => number } {
  let started = 0;
  let inFlight = 0;
  const run = async <T>(sql: string, fn: () => Promise<T>): Promise<T> => {
    started++;
    inFlight++;
    try {
      const what = decide(sql);
      if (what && "delayMs" in what) await new Promise((r) => setTimeout(r, what.delayMs));
      if (what && "fail" in what && what.fail === "before")
        throw Object.assign(new Error("injected fault: connection refused"), {
          code: "ECONNREFUSED",
        });
      const result = await fn();
      const rows = Array.isArray(result)
        ? result.length
        : Number((result as { affectedRows?: number }).affectedRows ?? 0);
      if (
        what &&
        "fail" in what &&
        (what.fail === "after" || (what.fail === "after-if-rows" && rows > 0))
      )
        throw Object.assign(new Error("injected fault: connection lost before the reply"), {
          code: "ECONNRESET",
        });
      return result;
    } finally {
      inFlight--;
    }
  };
  const wrapped: DB & { started: () => number; inFlight: () => number } = {
    dialect: db.dialect,
    exec: (sql, params) => run(sql, () => db.exec(sql, params)),
    query: (sql, params) => run(sql, () => db.query(sql, params)),
    ping: () => db.ping(),
    close: () => db.close(),
    started: () => started,
    inFlight: () => inFlight,
  };
  if (db.transaction) wrapped.transaction = (fn) => db.transaction!(fn);
  if (db.listen) {
    const listen = db.listen.bind(db);
    wrapped.listen = async (channel, onMessage, onError) => {
      await options.beforeListen?.();
      return listen(channel, onMessage, onError);
    };
  }
  return wrapped;
}

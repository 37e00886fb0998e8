import { type DB, migrate } from "@persistent-queue/core";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { AdapterUnderTest, TargetKind } from "./context.js";
import { openFresh } from "./db/open-target.js";

/** Anything with a stop(), such as a queue of any job types. */
interface Stoppable {
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * Registers the hooks of a describe block that works on one fresh, migrated
 * database: opened before its tests, closed (and dropped) after them; queues
 * passed to `track()` are stopped after each test.
 */
export function useMigratedDatabase(
  adapter: AdapterUnderTest,
  kind: TargetKind,
  { migrated = true } = {},
) {
  let opened: Awaited<ReturnType<typeof openFresh>> | undefined;
  const queues: Stoppable[] = [];
  beforeAll(async () => {
    opened = await openFresh(adapter, kind);
    if (migrated) await migrate(opened.db);
  });
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.stop({ timeoutMs: 1000 })));
  });
  afterAll(() => opened?.close());
  const current = () => {
    if (!opened) throw new Error("the database is opened in beforeAll; use it inside a test");
    return opened;
  };
  return {
    /** The adapter's DB on the fresh database. */
    get db(): DB {
      return current().db;
    },
    /** Where the database is, to open more connections to it. */
    get target() {
      return current().target;
    },
    /** Stops `queue` after the current test. */
    track<Q extends Stoppable>(queue: Q): Q {
      queues.push(queue);
      return queue;
    },
  };
}

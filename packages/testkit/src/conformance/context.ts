import type { DB, Dialect } from "@persistent-queue/core";
import { resolveDialect } from "@persistent-queue/core/adapter";
import { it, type TestContext } from "vitest";
import type { DatabaseServer } from "../servers.js";

/** Where a conformance test runs. */
export type TargetKind = "mariadb" | "postgres" | "sqlite";

/** A fresh, empty database to open an adapter on. */
export type Target =
  | { readonly kind: "mariadb"; readonly url: string }
  | { readonly kind: "postgres"; readonly url: string }
  | { readonly kind: "sqlite"; readonly path: string };

/**
 * A server of one kind other than the run's own (the one global setup
 * provides as inject("pqMysqlUrl") / inject("pqPgUrl")), e.g. PostgreSQL 18:
 * the suite makes its databases there and, for the restart test, starts
 * throwaway servers of the same flavour. See usePostgres18().
 */
export interface ServerChoice {
  /** Names the cell in test titles, e.g. "PostgreSQL 18". */
  readonly label: string;
  /** The server's admin URL; called from hooks and tests (after the test file's own beforeAll). */
  url(): string;
  /** A new throwaway server of the same flavour, which the caller stops. */
  start(): Promise<DatabaseServer>;
}

/** An adapter's handle on a target; `close()` releases everything it opened. */
export interface Opened {
  readonly db: DB;
  close(): Promise<void>;
}

/**
 * What an adapter package hands the conformance suite: its name, the
 * databases it supports, and how to open a `DB` on one. Passed in as an
 * argument; the suite keeps no module state.
 */
export interface AdapterUnderTest {
  readonly adapter: string;
  readonly kinds: readonly TargetKind[];
  /** Per kind, a server to run on instead of the run's own; default: the run's own. */
  readonly servers?: Partial<Record<Exclude<TargetKind, "sqlite">, ServerChoice>>;
  open(target: Target): Promise<Opened>;
  /**
   * Absolute path of a plain ESM module exporting the same `open(target)`,
   * for tests that run workers in child processes (kill tests). It imports
   * the built packages, so `npm run build` must have run.
   */
  readonly openModule?: string;
  /**
   * Also run the engine's timing-heavy checks ({@link timingIt}). The raw-driver
   * packages set it (one cell per database); the ORM adapters, whose SQL takes the
   * same engine path, leave it unset and run the rest of the suite.
   */
  readonly engineTiming?: boolean;
  /**
   * Set for a database that lives inside the test process on one connection (PGlite): the
   * reason, shown as the note of every test it skips ({@link skipInProcess}): tests that need
   * worker processes to reach the database, a server to restart, a server connection to kill,
   * a second connection to work while a transaction holds the first, or a database clock apart
   * from the process's (PGlite reads the process's Date). The test of isolation
   * between connections takes the one-connection path it takes on SQLite.
   */
  readonly inProcessOnly?: string;
}

/**
 * Skips the running test, with {@link AdapterUnderTest.inProcessOnly} as its note, when the
 * adapter's database lives in the test process: for tests that need other processes, a server
 * to restart, a connection to kill, a second connection or a clock of its own, none of which
 * such a database has.
 */
export function skipInProcess(ctx: TestContext, adapter: AdapterUnderTest): void {
  if (adapter.inProcessOnly !== undefined) ctx.skip(adapter.inProcessOnly);
}

/**
 * `it` for engine checks that turn on leases, heartbeats, clocks, schedule ticks
 * and races between processes — the engine's own behaviour, the same whichever
 * adapter passes its SQL through — and that take seconds each: run in the cells of
 * adapters with {@link AdapterUnderTest.engineTiming}, listed as skipped elsewhere.
 * What an adapter can get wrong (errors, transactions, types, pooling, LISTEN,
 * unique-key conflicts) stays in every cell. `skip`: skipped in every cell too.
 */
export function timingIt(adapter: AdapterUnderTest, skip = false): ReturnType<typeof it.skipIf> {
  return it.skipIf(skip || !adapter.engineTiming);
}

/**
 * Writes `{}` placeholders in the dialect's style, so a test's plain SQL runs
 * on every database: `fill(d, "SELECT {} + {}")` → `SELECT ? + ?` or `SELECT $1 + $2`.
 */
export function fill(dialect: Dialect, text: string): string {
  let n = 0;
  return text.replace(/\{\}/g, () => dialect.placeholder(++n));
}

/** Runs plain SQL with `{}` placeholders and returns rows. */
export async function q<T extends Record<string, unknown> = Record<string, unknown>>(
  db: DB,
  text: string,
  params: Parameters<DB["query"]>[1] = [],
): Promise<T[]> {
  return db.query<T>(fill(await resolveDialect(db), text), params);
}

/** Runs plain SQL with `{}` placeholders and returns the exec result. */
export async function x(db: DB, text: string, params: Parameters<DB["exec"]>[1] = []) {
  return db.exec(fill(await resolveDialect(db), text), params);
}

/** The seed's enqueue, verbatim: how other programs put jobs in the table. */
export const SEED_INSERT =
  "INSERT INTO async_job_tab (params, job_type, job_status, start_time, create_time, update_time) VALUES ({}, {}, {}, {}, {}, {})";

/** Retries `fn` until it resolves or `timeoutMs` passes; returns the value and how many tries it took. */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 15_000, stepMs = 200) {
  const deadline = Date.now() + timeoutMs;
  for (let tries = 1; ; tries++) {
    try {
      return { value: await fn(), tries };
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }
}

/** "pg on postgres", or "pg on PostgreSQL 18" when the adapter runs on another server of that kind. */
export function cellName(adapter: AdapterUnderTest, kind: TargetKind): string {
  const choice = kind === "sqlite" ? undefined : adapter.servers?.[kind];
  return `${adapter.adapter} on ${choice?.label ?? kind}`;
}

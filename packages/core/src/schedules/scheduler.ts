import type { DB } from "../db.js";
import { execSql } from "../dialects/sql.js";
import { dbErrorMessage } from "../engine/redact.js";
import { QueueClosedError } from "../engine/statement-guard.js";
import { WakeSignal } from "../engine/wake-signal.js";
import type { Logger } from "../logger.js";
import { advanceSchedule } from "../statements/schedules.js";
import { type CronSchedule, parseCron, planTicks } from "./cron.js";
import { readSchedules, type ScheduleTable, type StoredSchedule } from "./store.js";

/** What a {@link Scheduler} needs from its queue. */
export interface SchedulerDeps extends ScheduleTable {
  readonly logger: Logger;
  /** Longest sleep between two reads of the schedules table: how soon schedules other processes add are seen. */
  readonly maxSleepMs: number;
  /** Reports an error outside any call (the queue's "error" event). */
  readonly emitError: (error: unknown, during: string) => void;
  /** Wakes this process's workers of a job type after a tick enqueued jobs of it. */
  readonly enqueued: (jobType: number) => void;
}

/** A pattern that failed to parse (a row written by hand or by a newer version): logged once. */
type Parsed = CronSchedule | { readonly error: string };

/**
 * The schedule loop of one queue: reads the schedules of its job table, sleeps
 * until the earliest next tick (at most `maxSleepMs`, or until woken by
 * `schedule()`/`unschedule()`), and turns each due tick into one job with a
 * compare-and-set on the schedule's row in the transaction that inserts it.
 * Every process running the loop does the same; for each tick one wins. No
 * leader, no lock held between ticks.
 */
export class Scheduler {
  readonly #d: SchedulerDeps;
  readonly #signal = new WakeSignal();
  readonly #parsed = new Map<string, Parsed>();
  #stopping = false;
  #loop: Promise<void> | undefined;

  constructor(deps: SchedulerDeps) {
    this.#d = deps;
  }

  /** Starts the loop. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Reads the schedules again now (one was added, changed or removed in this process). */
  wake(): void {
    this.#signal.wake();
  }

  /** Ends the loop after the pass in flight (its transaction commits or rolls back first). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#signal.wake();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      let sleepMs = this.#d.maxSleepMs;
      try {
        sleepMs = Math.min(sleepMs, await this.#pass());
        failures = 0;
      } catch (error) {
        if (error instanceof QueueClosedError || this.#stopping) break;
        failures++;
        this.#d.logger.error(
          { err: dbErrorMessage(error), failures },
          "schedules: reading or advancing the schedules failed; trying again",
        );
        this.#d.emitError(error, "schedules");
        sleepMs = Math.min(this.#d.maxSleepMs * 2 ** Math.min(failures - 1, 4), 30_000);
      }
      await this.#signal.sleep(Math.max(0, sleepMs), this.#stopping);
    }
  }

  /** One pass over every schedule: fires what is due; resolves ms until the earliest next tick. */
  async #pass(): Promise<number> {
    const rows = await readSchedules(this.#d);
    let sleepMs = Number.POSITIVE_INFINITY;
    for (const row of rows) {
      if (this.#stopping) break;
      const pattern = this.#pattern(row);
      if (pattern === undefined) continue;
      if (row.nextTickMs > row.nowMs) {
        sleepMs = Math.min(sleepMs, row.nextTickMs - row.nowMs);
        continue;
      }
      try {
        if (await this.#fire(row, pattern)) sleepMs = 0; // ticks left for the next pass (a capped backfill)
      } catch (error) {
        if (error instanceof QueueClosedError || this.#stopping) throw error;
        // One schedule's failure (its transaction rolled back: the tick stays due) does not
        // hold up the others; it is tried again on the next pass, within a second.
        this.#d.logger.error(
          { schedule: row.name, err: dbErrorMessage(error) },
          "schedules: enqueueing a due tick failed; it stays due and is tried again",
        );
        this.#d.emitError(error, "schedules");
        sleepMs = Math.min(sleepMs, this.#d.maxSleepMs);
      }
    }
    return sleepMs;
  }

  /**
   * Enqueues the due ticks of one schedule, once in the cluster: resolves true
   * when the schedule may have due ticks left (the pass was capped).
   */
  async #fire(row: StoredSchedule, pattern: CronSchedule): Promise<boolean> {
    const { db, dialect, table, scope, logger } = this.#d;
    // next_tick_ms 0: a row written without one (by hand); its first tick is the next one.
    const plan =
      row.nextTickMs > 0
        ? planTicks(pattern, row.nextTickMs, row.nowMs, row.backfillMs)
        : { fire: [], next: pattern.nextAfter(row.nowMs) };
    const cas = advanceSchedule(dialect, table, {
      scope,
      name: row.name,
      cron: row.cron,
      tz: row.tz,
      dueMs: row.nextTickMs,
      lastMs: plan.fire.at(-1) ?? row.lastTickMs,
      // A pattern with no tick left (a year field passed): parked far ahead, still listed.
      nextMs: plan.next ?? Number.MAX_SAFE_INTEGER,
    });
    if (plan.fire.length === 0) {
      // Every due tick was missed: move on without enqueueing; a lost race changes nothing.
      const moved = (await execSql(db, dialect, cas)).affectedRows === 1;
      if (moved && row.nextTickMs > 0)
        logger.info(
          { schedule: row.name, missedSince: new Date(row.nextTickMs).toISOString() },
          "schedule: ticks missed while no process ran it were skipped (see its backfill option)",
        );
      return false;
    }
    const rows = plan.fire.map((tick) => ({
      jobType: row.jobType,
      params: row.params,
      dueAtMs: tick,
      priority: row.priority,
    }));
    const enqueue = async (tx: DB): Promise<number[] | undefined> => {
      if ((await execSql(tx, dialect, cas)).affectedRows !== 1) return undefined;
      return dialect.statements.insertJobs(tx, scope, rows);
    };
    // With a transaction the CAS and the INSERT commit together: a crash or an error
    // between them rolls both back, and the tick stays due for any process. Without
    // one (a DB that cannot open transactions), the CAS goes first: a crash between
    // the two loses the tick rather than enqueueing it twice.
    const ids = db.transaction ? await db.transaction(enqueue) : await enqueue(db);
    if (ids === undefined) return false; // another process took these ticks
    for (let i = 0; i < ids.length; i++)
      logger.debug?.(
        { schedule: row.name, tick: new Date(plan.fire[i]!).toISOString(), jobId: ids[i] },
        "schedule: tick enqueued",
      );
    this.#d.enqueued(row.jobType);
    return plan.next !== undefined && plan.next <= row.nowMs;
  }

  /** The row's pattern, parsed once per (cron, tz); undefined (logged once) if it does not parse. */
  #pattern(row: StoredSchedule): CronSchedule | undefined {
    const key = `${row.tz}\u0000${row.cron}`;
    let parsed = this.#parsed.get(key);
    if (parsed === undefined) {
      try {
        parsed = parseCron(row.cron, row.tz);
      } catch (err) {
        parsed = { error: (err as Error).message };
        this.#d.logger.error(
          { schedule: row.name, cron: row.cron, tz: row.tz, err: parsed.error },
          "schedule: its cron pattern or time zone is not valid; it does not run until schedule() rewrites it",
        );
      }
      this.#parsed.set(key, parsed);
    }
    return "error" in parsed ? undefined : parsed;
  }
}

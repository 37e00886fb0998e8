import { Cron } from "croner";

/**
 * A parsed cron pattern in its time zone: when its ticks fall. Pure (no clock
 * of its own): every function here takes "now" or "after" as an argument, so
 * DST behaviour is tested from fixed instants.
 */
export interface CronSchedule {
  /** The pattern as given. */
  readonly cron: string;
  /** The IANA time zone its fields are read in (canonical spelling), "UTC" by default. */
  readonly tz: string;
  /** The first tick strictly after `afterMs` (epoch ms), or undefined if there is none. */
  nextAfter(afterMs: number): number | undefined;
}

/**
 * Parses a 5-field (minute precision) or 6-field (seconds first) cron pattern
 * in time zone `tz` with croner. Throws croner's TypeError/RangeError on a bad
 * pattern; the caller turns it into a {@link ScheduleError}. A pattern is read
 * in its own zone, never the host's: hosts in different zones agree on ticks.
 *
 * DST (croner's rules, those of Vixie cron): a fixed time (`30 2 * * *`) that a
 * spring-forward skips runs once at the first valid time after the gap (03:00),
 * and once, at its first occurrence, on a fall-back day; an interval pattern
 * (`* /15 * * * *`, `30 * * * *`) skips the missing hour and runs in both
 * occurrences of the repeated one, as the wall clock shows them.
 */
export function parseCron(cron: string, tz: string): CronSchedule {
  const pattern = new Cron(cron, { timezone: tz, mode: "5-or-6-parts" });
  return {
    cron,
    tz,
    nextAfter(afterMs) {
      const next = pattern.nextRun(new Date(afterMs));
      return next === null ? undefined : next.getTime();
    },
  };
}

/** The canonical name of an IANA time zone (`europe/berlin` → `Europe/Berlin`), or undefined if unknown. */
export function canonicalTimeZone(tz: string): string | undefined {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * How late a tick may be enqueued and still count as on time: every overdue
 * tick at most this old is enqueued (a slow database, a blocked event loop, a
 * failed pass retried, a quick restart); older ones were missed (no process ran
 * the schedule) and are skipped unless `backfill` covers them.
 */
export const ON_TIME_MS = 60_000;

/** Most ticks one pass enqueues for one schedule (one transaction); the rest follow in the next pass. */
export const MAX_TICKS_PER_PASS = 100;

/** What to do with a schedule whose next tick is due. */
export interface TickPlan {
  /** The ticks to enqueue, ascending (epoch ms); may be empty when every due tick was missed. */
  readonly fire: readonly number[];
  /** The schedule's next tick after this pass: the first after `now`, or the first not yet planned (≤ now) when the pass was capped. */
  readonly next: number | undefined;
}

/**
 * Which due ticks of a schedule to enqueue at `nowMs`, given its first tick not
 * yet enqueued (`dueMs` ≤ now) and its backfill window (0: none): every tick
 * from `dueMs` on that lies in (now − max(backfill, {@link ON_TIME_MS})), now],
 * oldest first, at most `limit`. Older ticks were missed and are skipped. Ticks
 * before `dueMs` were enqueued already (or skipped) and never come back.
 */
export function planTicks(
  schedule: CronSchedule,
  dueMs: number,
  nowMs: number,
  backfillMs: number,
  limit = MAX_TICKS_PER_PASS,
): TickPlan {
  const fire: number[] = [];
  // Skip straight to the window: an every-second schedule a month behind has millions of ticks.
  const windowStart = nowMs - Math.max(backfillMs, ON_TIME_MS);
  let tick: number | undefined = dueMs > windowStart ? dueMs : schedule.nextAfter(windowStart);
  while (tick !== undefined && tick <= nowMs) {
    if (fire.length === limit) return { fire, next: tick }; // the rest in the next pass
    fire.push(tick);
    tick = schedule.nextAfter(tick);
  }
  return { fire, next: tick };
}

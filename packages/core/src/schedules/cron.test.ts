import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.js";
import { JobTypes } from "../job-types.js";
import { MAX_TICKS_PER_PASS, ON_TIME_MS, parseCron, planTicks } from "./cron.js";
import { resolveSchedule, resolveSchedules, ScheduleError } from "./schedule-spec.js";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The first `n` ticks strictly after `from`. */
function ticks(cron: string, tz: string, from: string, n: number): (string | undefined)[] {
  const p = parseCron(cron, tz);
  const out: (string | undefined)[] = [];
  let t: number | undefined = at(from);
  for (let i = 0; i < n && t !== undefined; i++) {
    t = p.nextAfter(t);
    out.push(iso(t));
  }
  return out;
}

describe("next tick in a time zone, across DST (Europe/Berlin, 2026)", () => {
  it("a daily 02:30 runs at 03:00 CEST on the spring-forward day (02:30 does not exist), then at 02:30 again", () => {
    // 2026-03-29: clocks jump from 02:00 CET (01:00Z) to 03:00 CEST.
    expect(ticks("30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", 4)).toEqual([
      "2026-03-28T01:30:00.000Z", // 02:30 CET
      "2026-03-29T01:00:00.000Z", // 03:00 CEST: the first valid time after the gap
      "2026-03-30T00:30:00.000Z", // 02:30 CEST
      "2026-03-31T00:30:00.000Z",
    ]);
  });

  it("a daily 02:30 runs once on the fall-back day (02:30 happens twice), at its first occurrence", () => {
    // 2026-10-25: clocks go back from 03:00 CEST (01:00Z) to 02:00 CET.
    expect(ticks("30 2 * * *", "Europe/Berlin", "2026-10-23T12:00:00Z", 4)).toEqual([
      "2026-10-24T00:30:00.000Z", // 02:30 CEST
      "2026-10-25T00:30:00.000Z", // 02:30 CEST, first occurrence; not again at 01:30Z
      "2026-10-26T01:30:00.000Z", // 02:30 CET
      "2026-10-27T01:30:00.000Z",
    ]);
  });

  it("an hourly :30 skips the missing hour in spring and runs in both repeated hours in autumn", () => {
    expect(ticks("30 * * * *", "Europe/Berlin", "2026-03-29T00:00:00Z", 2)).toEqual([
      "2026-03-29T00:30:00.000Z", // 01:30 CET
      "2026-03-29T01:30:00.000Z", // 03:30 CEST: 02:30 never happened
    ]);
    expect(ticks("30 * * * *", "Europe/Berlin", "2026-10-24T23:00:00Z", 4)).toEqual([
      "2026-10-24T23:30:00.000Z", // 01:30 CEST
      "2026-10-25T00:30:00.000Z", // 02:30 CEST
      "2026-10-25T01:30:00.000Z", // 02:30 CET
      "2026-10-25T02:30:00.000Z", // 03:30 CET
    ]);
  });

  it("reads the pattern in its own zone, UTC by default, never the host's", () => {
    expect(ticks("0 9 * * MON", "UTC", "2026-11-27T00:00:00Z", 1)).toEqual([
      "2026-11-30T09:00:00.000Z",
    ]);
    expect(ticks("0 9 * * MON", "America/New_York", "2026-11-27T00:00:00Z", 1)).toEqual([
      "2026-11-30T14:00:00.000Z",
    ]);
  });

  it("takes 6 fields with seconds first, and the next tick is strictly after the given instant", () => {
    expect(ticks("*/20 * * * * *", "UTC", "2026-01-01T00:00:00Z", 3)).toEqual([
      "2026-01-01T00:00:20.000Z",
      "2026-01-01T00:00:40.000Z",
      "2026-01-01T00:01:00.000Z",
    ]);
    expect(iso(parseCron("* * * * * *", "UTC").nextAfter(at("2026-01-01T00:00:04.999Z")))).toBe(
      "2026-01-01T00:00:05.000Z",
    );
  });
});

describe("planTicks: which due ticks a pass enqueues", () => {
  const everySecond = parseCron("* * * * * *", "UTC");
  const hourly = parseCron("0 * * * *", "UTC");
  const now = at("2026-06-01T12:00:30.250Z");

  it("fires the tick that just came due, and schedules the next one", () => {
    const plan = planTicks(everySecond, at("2026-06-01T12:00:30Z"), now, 0);
    expect(plan.fire.map(iso)).toEqual(["2026-06-01T12:00:30.000Z"]);
    expect(iso(plan.next)).toBe("2026-06-01T12:00:31.000Z");
  });

  it("without backfill, enqueues the overdue ticks of the last minute and skips older ones", () => {
    const plan = planTicks(everySecond, at("2026-06-01T09:00:00Z"), now, 0);
    expect(plan.fire).toHaveLength(60);
    expect(iso(plan.fire[0])).toBe("2026-06-01T11:59:31.000Z");
    expect(iso(plan.fire.at(-1))).toBe("2026-06-01T12:00:30.000Z");
    expect(iso(plan.next)).toBe("2026-06-01T12:00:31.000Z");
    // An hourly tick 30 s late still runs; 61 s late it was missed and is skipped.
    expect(planTicks(hourly, at("2026-06-01T12:00:00Z"), now, 0).fire.map(iso)).toEqual([
      "2026-06-01T12:00:00.000Z",
    ]);
    const late = planTicks(
      hourly,
      at("2026-06-01T12:00:00Z"),
      at("2026-06-01T12:00:00Z") + ON_TIME_MS + 1000,
      0,
    );
    expect(late.fire).toEqual([]);
    expect(iso(late.next)).toBe("2026-06-01T13:00:00.000Z");
  });

  it("with backfill, enqueues every missed tick inside the window, oldest first, and none before it", () => {
    const plan = planTicks(hourly, at("2026-06-01T03:00:00Z"), now, 3 * 3_600_000);
    expect(plan.fire.map(iso)).toEqual([
      "2026-06-01T10:00:00.000Z",
      "2026-06-01T11:00:00.000Z",
      "2026-06-01T12:00:00.000Z",
    ]);
    expect(iso(plan.next)).toBe("2026-06-01T13:00:00.000Z");
  });

  it("never goes back before the schedule's next tick (those were enqueued already)", () => {
    const plan = planTicks(hourly, at("2026-06-01T12:00:00Z"), now, 24 * 3_600_000);
    expect(plan.fire.map(iso)).toEqual(["2026-06-01T12:00:00.000Z"]);
  });

  it("caps one pass, leaving the rest of the window (still due) for the next pass", () => {
    const plan = planTicks(everySecond, at("2026-06-01T11:00:00Z"), now, 3_600_000);
    expect(plan.fire).toHaveLength(MAX_TICKS_PER_PASS);
    expect(iso(plan.fire[0])).toBe("2026-06-01T11:00:31.000Z"); // the first inside (now − 1h, now]
    expect(plan.next).toBe(plan.fire.at(-1)! + 1000);
  });

  it("skips a month-long outage of an every-second schedule without walking its ticks", () => {
    const started = performance.now();
    const plan = planTicks(everySecond, at("2026-05-01T00:00:00Z"), now, 0);
    expect(plan.fire).toHaveLength(60);
    expect(iso(plan.fire[0])).toBe("2026-06-01T11:59:31.000Z");
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe("schedule validation", () => {
  const types = new JobTypes(new Map(), new Map());
  const ok = { name: "nightly", cron: "30 2 * * *", jobType: 7 };
  const fails = (input: unknown, field: string, message: RegExp) => {
    let error: unknown;
    try {
      resolveSchedule(input, "schedule", types);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ScheduleError);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ScheduleError).field).toBe(field);
    expect((error as Error).message).toMatch(message);
  };

  it("accepts a valid schedule, canonicalises its zone and defaults to UTC and {} params", () => {
    const s = resolveSchedule({ ...ok, tz: "europe/berlin", backfill: "1h" }, "schedule", types);
    expect([s.tz, s.backfillMs, s.params, s.priority]).toEqual(["Europe/Berlin", 3_600_000, {}, 0]);
    expect(resolveSchedule(ok, "schedule", types).tz).toBe("UTC");
  });

  it("rejects bad patterns, zones, backfills, names, priorities and job types with the field to change", () => {
    fails({ ...ok, cron: "* * *" }, "schedule.cron", /not a valid cron pattern.*5 fields/);
    fails({ ...ok, cron: "61 * * * *" }, "schedule.cron", /not a valid cron pattern/);
    fails({ ...ok, cron: "0 0 0 1 1 * 2030" }, "schedule.cron", /not a valid cron pattern/);
    fails({ ...ok, cron: "0 0 30 2 *" }, "schedule.cron", /never fires/);
    fails({ ...ok, cron: 5 }, "schedule.cron", /must be a cron pattern/);
    fails({ ...ok, tz: "Mars/Olympus" }, "schedule.tz", /IANA time zone/);
    fails({ ...ok, backfill: "soon" }, "schedule.backfill", /duration/);
    fails({ ...ok, backfill: -5 }, "schedule.backfill", /duration/);
    fails({ ...ok, name: "" }, "schedule.name", /1-64 characters/);
    fails({ ...ok, name: "a b" }, "schedule.name", /1-64 characters/);
    fails({ ...ok, name: "x".repeat(65) }, "schedule.name", /1-64 characters/);
    fails({ ...ok, priority: 1.5 }, "schedule.priority", /integer/);
    fails({ ...ok, jobType: "unknown-name" }, "schedule.jobType", /no job type is named/);
    fails({ ...ok, jobType: 2 ** 40 }, "schedule.jobType", /INT column/);
    fails(null, "schedule", /must be an object/);
  });

  it("rejects two config schedules with one name", () => {
    expect(() => resolveSchedules([ok, { ...ok, cron: "0 * * * *" }], types)).toThrow(
      /schedules\[1\]\.name: "nightly" names two schedules/,
    );
    expect(() => resolveSchedules({}, types)).toThrow(ScheduleError);
    expect(resolveSchedules(undefined, types)).toBeUndefined();
  });
});

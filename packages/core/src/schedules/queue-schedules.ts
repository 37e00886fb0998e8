import type { JobTypes } from "../job-types.js";
import type { Logger } from "../logger.js";
import {
  assertScheduleName,
  type ResolvedSchedule,
  resolveSchedule,
  resolveSchedules,
  type ScheduleInfo,
  scheduleParams,
} from "./schedule-spec.js";
import { Scheduler, type SchedulerDeps } from "./scheduler.js";
import {
  readSchedules,
  removeConfigSchedulesExcept,
  removeSchedule,
  type ScheduleTable,
  toScheduleInfo,
  upsertSchedule,
} from "./store.js";

/**
 * A queue's schedules: its `schedules` option, the runtime calls
 * (`schedule()`, `unschedule()`, `listSchedules()`) and the loop that runs
 * while the queue runs. The queue delegates to it; `table()` gives the
 * schedules table on the queue's DB with the schema checked.
 */
export class QueueSchedules {
  readonly #types: JobTypes;
  /** The `schedules` option, checked; undefined when not given (start() then leaves config rows alone). */
  readonly #config: readonly ResolvedSchedule[] | undefined;
  readonly #table: () => Promise<ScheduleTable>;
  readonly #logger: Logger;
  #scheduler: Scheduler | undefined;

  constructor(options: {
    readonly types: JobTypes;
    readonly schedules: unknown;
    readonly table: () => Promise<ScheduleTable>;
    readonly logger: Logger;
  }) {
    this.#types = options.types;
    this.#config = resolveSchedules(options.schedules, options.types);
    this.#table = options.table;
    this.#logger = options.logger;
  }

  /**
   * At start(): writes the config schedules (params validated by their job
   * types' schemas), then removes the config schedules of this job table that
   * the option no longer lists. Nothing when the option was not given.
   */
  async syncConfig(): Promise<void> {
    if (this.#config === undefined) return;
    const params = await Promise.all(
      this.#config.map((s, i) => scheduleParams(s, `schedules[${i}]`)),
    );
    const table = await this.#table();
    for (let i = 0; i < this.#config.length; i++)
      await upsertSchedule(table, this.#config[i]!, params[i]!, "config");
    const removed = await removeConfigSchedulesExcept(
      table,
      this.#config.map((s) => s.name),
    );
    if (removed > 0)
      this.#logger.info(
        { removed },
        `start(): removed ${removed} schedule(s) that an earlier config listed and this one does not`,
      );
  }

  /** Creates or updates a schedule by name (source "runtime"); wakes this process's loop. */
  async schedule(input: unknown): Promise<void> {
    const resolved = resolveSchedule(input, "schedule", this.#types);
    const params = await scheduleParams(resolved, "schedule");
    await upsertSchedule(await this.#table(), resolved, params, "runtime");
    this.#scheduler?.wake();
  }

  /** Deletes a schedule; true if it existed. Every process stops enqueueing its ticks. */
  async unschedule(name: unknown): Promise<boolean> {
    const checked = assertScheduleName(name, "unschedule(name)");
    const removed = await removeSchedule(await this.#table(), checked);
    this.#scheduler?.wake();
    return removed;
  }

  /** Every schedule of the job table, by name, with its next and last tick. */
  async list(): Promise<ScheduleInfo[]> {
    const rows = await readSchedules(await this.#table());
    return rows.map((row) => toScheduleInfo(row, (type) => this.#types.specs.get(type)?.name));
  }

  /** Starts the schedule loop (the queue's start()). */
  startLoop(deps: SchedulerDeps): void {
    this.#scheduler ??= new Scheduler(deps);
    this.#scheduler.start();
  }

  /**
   * Ends the loop (the queue's stop()); resolves when its last pass has ended,
   * or at `deadline` (Date.now() ms) if a statement hangs: the queue's
   * statement guard then refuses the loop's next one.
   */
  async stopLoop(deadline: number): Promise<void> {
    if (!this.#scheduler) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#scheduler.stop(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
  }
}

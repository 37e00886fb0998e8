import type { Logger } from "../logger.js";
import { dbErrorMessage } from "./redact.js";
import { QueueClosedError } from "./statement-guard.js";

/** What {@link Intervals} needs from its worker. */
export interface IntervalsDeps {
  readonly jobType: number;
  readonly logger: Logger;
  readonly emitError: (error: unknown, during: string) => void;
}

/**
 * A worker's periodic upkeep (heartbeats, rescues): each task runs on its own
 * timer, a failed run is logged and emitted and tried again on the next tick,
 * and the runs in flight are known, so `stop()` can await them.
 */
export class Intervals {
  readonly #d: IntervalsDeps;
  #timers: NodeJS.Timeout[] = [];
  /** Runs in flight, awaited by stop(). */
  readonly #tasks = new Set<Promise<void>>();

  constructor(deps: IntervalsDeps) {
    this.#d = deps;
  }

  /** The runs in flight now. */
  get inFlight(): Promise<void>[] {
    return [...this.#tasks];
  }

  /** Runs `fn` every `ms`, skipping a tick while `overlap` runs are still in flight. */
  every(ms: number, fn: () => Promise<void>, what: string, overlap = 1): void {
    let busy = 0;
    const timer = setInterval(() => {
      if (busy >= overlap) return;
      busy++;
      const task: Promise<void> = fn()
        .catch((error) => {
          if (error instanceof QueueClosedError) return;
          this.#d.logger.warn(
            { jobType: this.#d.jobType, err: dbErrorMessage(error) },
            `${what} failed; trying again`,
          );
          this.#d.emitError(error, what);
        })
        .finally(() => {
          busy--;
          this.#tasks.delete(task);
        });
      this.#tasks.add(task);
    }, ms);
    timer.unref?.();
    this.#timers.push(timer);
  }

  /** Clears every timer; runs in flight go on (see {@link inFlight}). */
  clear(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }
}

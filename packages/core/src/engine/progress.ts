import type { JobLease } from "../dialects/dialect.js";
import { serialiseOutput } from "./job-output.js";
import { dbErrorMessage } from "./redact.js";
import type { TypeContext } from "./type-context.js";

/** What a {@link ProgressReporter} needs from its worker. */
export interface ProgressDeps extends TypeContext {
  readonly emitError: (error: unknown, during: string) => void;
}

/**
 * One run's `ctx.progress()`: checks each value at once (JSON, at most
 * `maxProgressBytes`), and writes the latest one, fenced by the run's lease
 * token, at most once per `progressInterval`: a handler that reports in a
 * tight loop costs one write per interval, not one per call. A value that
 * arrives while a write is in flight or within the interval waits, and a
 * later one replaces it. {@link flush} writes what is waiting before the
 * run's outcome, so the last value reported is the one stored.
 */
export class ProgressReporter {
  readonly #d: ProgressDeps;
  readonly #lease: JobLease;
  /** JSON of the latest value not yet written. */
  #pending: string | undefined;
  /** Callers whose value is pending (or replaced by a pending one): resolved after its write. */
  #waiters: (() => void)[] = [];
  /** performance.now() of the last write's start. */
  #lastWrite = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  /** Set by flush()/discard(): the run is over, no write is scheduled any more. */
  #closed = false;

  constructor(deps: ProgressDeps, lease: JobLease) {
    this.#d = deps;
    this.#lease = lease;
  }

  /** `ctx.progress(value)`; see `JobContext.progress`. */
  report(value: unknown): Promise<void> {
    let text: string;
    try {
      text = serialiseOutput("progress", value, this.#d.config.maxProgressBytes);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.resolve(); // after the outcome: fenced off anyway
    this.#pending = text;
    const written = new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.#schedule();
    return written;
  }

  /** Before the run's outcome is written: writes the value waiting, if any, now. */
  async flush(): Promise<void> {
    this.#close();
    while (this.#inFlight) await this.#inFlight;
    if (this.#pending !== undefined) await this.#write();
  }

  /** The run was handed back: nothing more is written. */
  discard(): void {
    this.#close();
    this.#pending = undefined;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  #close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#inFlight || this.#timer || this.#closed) return; // the write in flight schedules the next
    const wait = this.#lastWrite + this.#d.config.progressMs - performance.now();
    if (wait <= 0) {
      void this.#write();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#write();
    }, wait);
  }

  async #write(): Promise<void> {
    const text = this.#pending;
    const waiters = this.#waiters.splice(0);
    this.#pending = undefined;
    if (text === undefined) {
      for (const resolve of waiters) resolve();
      return;
    }
    const { db, dialect, table, logger, config } = this.#d;
    this.#lastWrite = performance.now();
    const write = (async () => {
      try {
        const n = await dialect.statements.writeProgress(db, table, this.#lease, text);
        if (n === 0)
          logger.debug?.(
            { jobId: this.#lease.id, jobType: config.jobType },
            "progress not written: this run no longer holds the job's lease",
          );
      } catch (error) {
        logger.warn(
          { jobId: this.#lease.id, jobType: config.jobType, err: dbErrorMessage(error) },
          "progress could not be written; the run goes on",
        );
        this.#d.emitError(error, "progress");
      }
    })();
    this.#inFlight = write;
    await write;
    this.#inFlight = undefined;
    for (const resolve of waiters) resolve();
    if (this.#pending !== undefined) this.#schedule();
  }
}

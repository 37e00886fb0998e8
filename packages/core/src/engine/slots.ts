import type { ResolvedJobConfig } from "../config.js";
import type { Row } from "../db.js";
import type { Duration } from "../duration.js";
import type { Job, JobContext } from "../job.js";
import { JobStatus } from "../job-status.js";
import type { Logger } from "../logger.js";
import type { BackOffScope } from "../rate-limited.js";
import type { Telemetry } from "../telemetry/telemetry.js";
import { abortedByCancel } from "./cancelled.js";
import type { Completer } from "./completer.js";
import { JobOutputError } from "./job-output.js";
import type { ProgressReporter } from "./progress.js";
import { dbErrorMessage } from "./redact.js";
import { RunAbort } from "./run-abort.js";
import { errorMessage, type RunOutcome, runHandler } from "./run-handler.js";
import { toJob } from "./to-job.js";

/** A job this worker holds. */
export interface Held {
  readonly job: Job;
  readonly token: string;
  readonly abort: RunAbort;
  /** queued: claimed, waiting for a free slot; running: in the handler; completing: writing its outcome. */
  state: "queued" | "running" | "completing" | "released";
  /** Set for a job parsed badly (invalid JSON): it is failed without running. */
  readonly parseError: Error | undefined;
  /** performance.now() when the lease was last known good: the claim or a heartbeat was sent then. */
  leaseSince: number;
  /** The row's `trace_context`: the enqueuing span's context, or null. */
  readonly traceContext: string | null;
  /** When the job became due, epoch ms (for the time-waiting metric). */
  readonly dueMs: number;
  done: Promise<void>;
}

/** What {@link Slots} needs from its worker. */
export interface SlotsDeps {
  readonly config: ResolvedJobConfig;
  readonly logger: Logger;
  readonly completer: Completer;
  /** True once the worker stops: no job starts any more. */
  readonly stopping: () => boolean;
  /** Hands one held job back (a claim this worker will not run). */
  readonly release: (held: Held, reason: string) => Promise<void>;
  /**
   * A job left its slot and the worker: claim again. `succeeded`: its outcome was
   * a written success (which makes no job due; see TypeWorker).
   */
  readonly settled: (succeeded?: boolean) => void;
  /** A job of an unlimited type succeeded and no claimed job waits for its slot: claim again if there is more. */
  readonly slotFreed: () => void;
  readonly emitError: (error: unknown, during: string) => void;
  /** `ctx.backOff()`: backs the job's type or group off, cluster-wide. */
  readonly backOff: (
    job: Job,
    retryAfter: Duration | number,
    scope: BackOffScope | undefined,
  ) => Promise<unknown>;
  /** The `ctx.progress()` of one run, writing under its lease. */
  readonly progress: (lease: { readonly id: number; readonly token: string }) => ProgressReporter;
  /** Spans and metrics of each run; none when undefined. */
  readonly telemetry?: Telemetry | undefined;
}

/** Part of a lease after which a job's lease, not confirmed since, is no longer trusted to start it. */
const LEASE_TRUST = 0.8;

/**
 * The jobs one worker holds and its handler slots: claimed jobs wait here
 * (prefetch) until one of `workerPoolCapacity` slots is free, are checked
 * against the schema, run, and have their outcome written by the completer.
 * A job stays held until its outcome is written.
 */
/**
 * How long a cancel() of a job this worker does not hold yet still applies to it when it
 * arrives: the time between a claim's commit and its rows reaching the slots. Short, so a
 * job cancelled, retried and claimed again later is not dropped by mistake.
 */
const EARLY_CANCEL_MS = 2000;

export class Slots {
  readonly #d: SlotsDeps;
  readonly #held = new Map<number, Held>();
  /** Claimed jobs waiting for a slot, oldest first (prefetch: claims run ahead of capacity). */
  readonly #waiting: Held[] = [];
  #running = 0;
  /** Held jobs whose run succeeded and whose outcome is being written. */
  #succeeding = 0;
  /** Recent handler run time, ms (a moving average over about the last 8 runs); undefined before the first. */
  #runMs: number | undefined;

  /** cancel() of jobs this worker did not hold yet: see {@link abortHeld}. */
  readonly #cancelledEarly = new Map<number, { reason: Error; until: number }>();

  constructor(deps: SlotsDeps) {
    this.#d = deps;
  }

  /** Jobs held: waiting, running, or having their outcome written. */
  get size(): number {
    return this.#held.size;
  }

  /** Held jobs whose handler finished and whose outcome is being written, at most `max` of them. */
  completingIds(max: number): number[] {
    const ids: number[] = [];
    for (const h of this.#held.values()) {
      if (ids.length >= max) break;
      if (h.state === "completing") ids.push(h.job.id);
    }
    return ids;
  }

  /**
   * Held jobs whose run succeeded and whose outcome is being written. Other
   * outcomes are not counted: a run that failed, continues or backs its type off
   * must be written before this worker claims in its place (a back-off first of all).
   */
  get succeedingCount(): number {
    return this.#succeeding;
  }

  /** Recent handler run time in ms (moving average, each run weighing 1/8); undefined before the first run ends. */
  get recentRunMs(): number | undefined {
    return this.#runMs;
  }

  /** Handlers running now. */
  get runningCount(): number {
    return this.#running;
  }

  /** Jobs claimed ahead that wait for a slot. */
  get waitingCount(): number {
    return this.#waiting.length;
  }

  /** Every held job, in no particular order. */
  all(): Held[] {
    return [...this.#held.values()];
  }

  /** The lease token under which this worker holds job `id`, if it does. */
  tokenOf(id: number): string | undefined {
    return this.#held.get(id)?.token;
  }

  /**
   * Aborts the signal of job `id` if this worker holds it (`cancel()` from this
   * process): a running handler is told at once, a job waiting for a slot never
   * starts. True when it was held.
   */
  abortHeld(id: number, reason: Error): boolean {
    const held = this.#held.get(id);
    if (!held) {
      // The claim may have committed with its rows not read back yet (MySQL reads them in a
      // second round trip): a job that arrives within a moment is dropped as it is enqueued.
      const now = performance.now();
      if (this.#cancelledEarly.size >= 64) {
        for (const [k, v] of this.#cancelledEarly)
          if (v.until < now) this.#cancelledEarly.delete(k);
      }
      this.#cancelledEarly.set(id, { reason, until: now + EARLY_CANCEL_MS });
      return false;
    }
    held.abort.abort(reason);
    return true;
  }

  /** Takes every job waiting for a slot out of the queue (at stop). */
  takeWaiting(): Held[] {
    return this.#waiting.splice(0);
  }

  /** Marks jobs released and forgets them: they are being handed back. */
  detach(list: readonly Held[]): void {
    for (const held of list) {
      held.state = "released";
      if (this.#held.get(held.job.id) === held) this.#held.delete(held.job.id);
    }
  }

  /** Holds a claimed row under `token`, whose lease was good at `since` (performance.now()), in the queue for a slot. */
  enqueue(row: Row, token: string, since: number): Held {
    const parsed = toJob(row, this.#d.config.name);
    const stale = this.#held.get(parsed.job.id);
    if (stale && stale.token !== token) {
      // This worker claimed the job again after the lease of its earlier run expired:
      // that run's result will be fenced off, so its handler is told to stop now.
      stale.abort.abort(
        new Error("the job's lease expired and this worker claimed it again; this run is stale"),
      );
      if (stale.state === "queued") {
        stale.state = "released";
        const at = this.#waiting.indexOf(stale);
        if (at >= 0) this.#waiting.splice(at, 1);
      }
    }
    const held: Held = {
      job: parsed.job,
      token,
      leaseSince: since,
      abort: new RunAbort(),
      state: "queued",
      parseError: parsed.error,
      traceContext: parsed.traceContext,
      dueMs: parsed.dueMs,
      done: Promise.resolve(),
    };
    this.#held.set(parsed.job.id, held);
    this.#waiting.push(held);
    const early = this.#cancelledEarly.get(parsed.job.id);
    if (early) {
      this.#cancelledEarly.delete(parsed.job.id);
      if (early.until >= performance.now()) held.abort.abort(early.reason); // pump() drops it
    }
    return held;
  }

  /**
   * Starts queued jobs while a slot is free. A job whose lease has not been
   * confirmed for most of a lease (heartbeats not getting through: the
   * database unreachable) may already be rescued and running elsewhere: it is
   * handed back instead of started.
   */
  pump(): void {
    const { capacity, leaseMs } = this.#d.config;
    while (this.#running < capacity && this.#waiting.length > 0 && !this.#d.stopping()) {
      const held = this.#waiting.shift()!;
      if (abortedByCancel(held.abort)) {
        // Cancelled while it waited for a slot: it never starts, and there is nothing
        // to write (the row is Cancelled; its lease is gone).
        this.#forget(held);
        continue;
      }
      if (performance.now() - held.leaseSince > leaseMs * LEASE_TRUST) {
        void this.#d.release(held, "not started: its lease may have expired while it waited");
        continue;
      }
      this.#runJob(held);
    }
  }

  #runJob(held: Held): void {
    const { config, logger, completer } = this.#d;
    const { job } = held;
    held.state = "running";
    this.#running++;
    let slotFreed = false;
    const freeSlot = () => {
      if (slotFreed) return;
      slotFreed = true;
      this.#running--;
      this.pump();
      // Under a cluster-wide limit a finished handler frees room at once (the claim
      // names the jobs being completed): claim again now, not after the write.
      // Without one, once no claimed job waits for a slot: the next claim overlaps
      // the outcome writes (see the claimer's room).
      if (config.limits) {
        if (held.state === "completing") this.#d.settled();
      } else if (succeeding && this.#waiting.length === 0) this.#d.slotFreed();
    };
    let succeeding = false;
    let written = false;
    const progress = this.#d.progress({ id: job.id, token: held.token });
    held.done = (async () => {
      const started = performance.now();
      const attempt = async (): Promise<RunOutcome> => {
        if (held.parseError !== undefined)
          return { status: JobStatus.Failed, error: held.parseError };
        const invalid = await this.#validate(job);
        const abort = held.abort;
        const ctx: JobContext = {
          // Made when the handler first reads it (see RunAbort).
          get signal() {
            return abort.signal;
          },
          logger,
          progress: (value) => progress.report(value),
          backOff: async (retryAfter, options) => {
            await this.#d.backOff(job, retryAfter, options?.scope);
          },
        };
        // cancel() may have come while the params were validated: the handler never starts.
        return invalid
          ? { status: JobStatus.Failed, error: invalid }
          : abortedByCancel(held.abort)
            ? { status: JobStatus.Failed, error: held.abort.reason as Error }
            : await runHandler(config, job, ctx, held.abort);
      };
      const telemetry = this.#d.telemetry;
      const outcome = telemetry ? await telemetry.process(held, attempt) : await attempt();
      if (held.state === "released") {
        progress.discard();
        return;
      }
      if (abortedByCancel(held.abort)) {
        // cancel() ended this run: the row is Cancelled and every write of this run is
        // fenced off, so none is sent.
        progress.discard();
        completer.discard(job, (held.abort.reason as Error).message);
        return;
      }
      held.state = "completing";
      if (outcome.status === JobStatus.Success) {
        this.#succeeding++;
        succeeding = true;
      }
      // The handler is done: its slot is free for the next job while the outcome is
      // written. The job stays held until then (a success counted against the
      // claim-ahead bound only beyond one window: see the claimer), so completions of
      // a busy worker pile up into larger batches.
      freeSlot();
      if ("error" in outcome && outcome.error instanceof JobOutputError)
        this.#d.emitError(outcome.error, "result");
      await progress.flush(); // the last value reported, before the outcome
      const ranMs = performance.now() - started;
      this.#runMs = this.#runMs === undefined ? ranMs : this.#runMs + (ranMs - this.#runMs) / 8;
      await completer.complete(job, held.token, outcome, ranMs, held.leaseSince + config.leaseMs);
      written = true;
    })()
      .catch((error) => {
        logger.error(
          { jobId: job.id, err: dbErrorMessage(error) },
          "job bookkeeping failed; the lease will expire and the job run again",
        );
        this.#d.emitError(error, "complete");
      })
      .finally(() => {
        const succeeded = succeeding && written;
        if (succeeding) this.#succeeding--;
        freeSlot();
        // Only this claim's entry: once this run's lease was lost, this worker may have
        // claimed the job again, and that claim must stay held (and heartbeated).
        if (this.#held.get(job.id) === held) this.#held.delete(job.id);
        this.#d.settled(succeeded);
      });
  }

  /** Drops a held job that will not run, and lets the worker claim again. */
  #forget(held: Held): void {
    held.state = "released";
    if (this.#held.get(held.job.id) === held) this.#held.delete(held.job.id);
    this.#d.completer.discard(held.job, "cancelled by cancel() before it started");
    this.#d.settled();
  }

  /** The schema's verdict on the params: an Error fails the job (a validator that throws, too). */
  async #validate(job: Job): Promise<Error | undefined> {
    const schema = this.#d.config.schema;
    if (!schema) return undefined;
    let result: Awaited<ReturnType<(typeof schema)["~standard"]["validate"]>>;
    try {
      result = await schema["~standard"].validate(job.params);
    } catch (error) {
      return new TypeError(
        `the job type's schema threw while checking params: ${errorMessage(error)}`,
      );
    }
    if (result.issues) {
      return new TypeError(
        `params do not match the job type's schema: ${result.issues.map((i) => i.message).join("; ")}`,
      );
    }
    (job as { params: unknown }).params = result.value;
    return undefined;
  }
}

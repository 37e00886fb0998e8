import type { EventEmitter } from "node:events";
import type { StaleCutoff } from "../dialects/dialect.js";
import { emitSafely, type QueueEventMap } from "../events.js";
import type { ShedLock } from "../lock/shed-lock.js";
import type { NewJobRow } from "../statements/jobs.js";
import type { Telemetry } from "../telemetry/telemetry.js";
import { makeToken } from "../worker-id.js";
import { backOffJob } from "./back-off.js";
import { abortedByCancel } from "./cancelled.js";
import { Claimer } from "./claimer.js";
import { Completer, type CompleterDeps } from "./completer.js";
import { handBack } from "./hand-back.js";
import { Intervals } from "./intervals.js";
import { extendHeldLeases, rescueExpiredLeases, rescueInterval } from "./leases.js";
import { ProgressReporter } from "./progress.js";
import { redactError } from "./redact.js";
import { MIN_RETRY_MS } from "./retry-write.js";
import { type Held, Slots } from "./slots.js";
import { QueueClosedError } from "./statement-guard.js";
import type { TypeContext } from "./type-context.js";

/** What a {@link TypeWorker} needs from its queue. */
export interface TypeWorkerDeps extends TypeContext {
  readonly events: EventEmitter<QueueEventMap>;
  readonly pollMs: number;
  readonly locks: ShedLock;
  /** Jobs whose final outcome was just written (wakes `waitFor()`, counts them). */
  readonly finished?: CompleterDeps["finished"];
  /** Spans and metrics of each run. */
  readonly telemetry?: Telemetry | undefined;
}

/**
 * Runs one job type in this process: claims due jobs in batches up to the
 * free capacity ({@link Claimer}), runs their handlers ({@link Slots}), writes
 * fenced completions ({@link Completer}), heartbeats the leases of running
 * jobs, and (under a cluster-wide ShedLock, once per interval) rescues jobs
 * whose lease expired ({@link Intervals}). This class wires them together and
 * winds them down in order at stop().
 */
export class TypeWorker {
  readonly #d: TypeWorkerDeps;
  readonly #slots: Slots;
  readonly #claimer: Claimer;
  readonly #intervals: Intervals;
  #stopping = false;
  /** Hand-offs whose insert is in flight: each holds a free slot (see {@link mayHandOff}). */
  #handingOff = 0;
  #loop: Promise<void> | undefined;

  constructor(deps: TypeWorkerDeps) {
    this.#d = deps;
    const emitError = (error: unknown, during: string) => this.#emitError(error, during);
    const stopping = () => this.#stopping;
    this.#slots = new Slots({
      config: deps.config,
      logger: deps.logger,
      completer: new Completer({ ...deps, emitError }),
      stopping,
      release: (held, reason) => this.#release(held, reason),
      // A success makes no job due: it wakes a claimer only if there may be more to
      // claim (a drained one hears of new jobs from add(), NOTIFY or its poll). Waking
      // it per success cost an in-process hand-off's job a whole claim round (three
      // claims and a next-due read) right behind it, in the way of the next add.
      // Other outcomes (a retry, a back-off, a hand-back) may make jobs due: claim again.
      settled: (succeeded) => {
        if (!succeeded || deps.config.limits !== undefined || !this.#claimer.drained) this.wake();
      },
      // Only while there may be more to claim: a claimer that found nothing more due
      // hears of new jobs from add(), NOTIFY or its poll. Waking it per finished job
      // cost an empty claim each, and its idle wait doubled sooner.
      slotFreed: () => {
        if (!this.#claimer.drained) this.wake();
      },
      emitError,
      progress: (lease) => new ProgressReporter({ ...deps, emitError }, lease),
      backOff: (job, retryAfter, scope) => backOffJob(deps, job, retryAfter, scope),
      telemetry: deps.telemetry,
    });
    this.#claimer = new Claimer({ ...deps, slots: this.#slots, stopping, emitError });
    this.#intervals = new Intervals({
      jobType: deps.config.jobType,
      logger: deps.logger,
      emitError,
    });
  }

  /** Jobs this worker holds right now (running or being completed). */
  get held(): number {
    return this.#slots.size;
  }

  /** Starts claiming. `stale` is the firstPullDay cut-off for never-run jobs. */
  start(stale: StaleCutoff | undefined): void {
    const { leaseMs } = this.#d.config;
    // A heartbeat stuck on a dead connection must not stop the next one (on another):
    // up to two may be in flight.
    this.#intervals.every(
      Math.max(50, Math.floor(leaseMs / 3)),
      () => this.#heartbeat(),
      "heartbeat",
      2,
    );
    this.#intervals.every(rescueInterval(this.#d.config), () => this.#rescue(), "rescue");
    this.#loop = this.#claimer.run(stale);
  }

  /**
   * True when a job added in this process now could start here at once without a
   * claim (see {@link handOff}): the type has no cluster-wide limits, a slot is
   * free and no claimed job waits for one, and the last claim found nothing
   * more due (so the job overtakes none this worker has seen).
   */
  mayHandOff(): boolean {
    const { config } = this.#d;
    return (
      !this.#stopping &&
      config.limits === undefined &&
      this.#claimer.drained &&
      this.#slots.waitingCount === 0 &&
      this.#slots.runningCount + this.#handingOff < config.capacity
    );
  }

  /**
   * In-process hand-off: inserts the job already claimed by this worker (one
   * INSERT … RETURNING: its lease, token and worker id set as a claim sets them)
   * and starts it in a free slot, so its pickup is the insert's round trip, not a
   * wake-up and a claim. A paused or backing-off type's job is inserted waiting
   * instead (`claimed: false`). Undefined: no free slot any more, nothing
   * inserted. A failure after the statement was sent may have committed: the
   * claimer then adopts the row as it does a claim whose reply was lost.
   */
  async handOff(row: NewJobRow): Promise<{ id: number; claimed: boolean } | undefined> {
    const insert = this.#d.dialect.statements.insertClaimedJob;
    if (!insert || !this.mayHandOff()) return undefined;
    const { db, table, config, workerId, flow } = this.#d;
    const token = makeToken();
    const since = performance.now(); // the lease cannot have started before the insert was sent
    this.#handingOff++;
    try {
      const { id, claimed } = await insert(db, table, row, {
        token,
        leaseMs: config.leaseMs,
        workerId,
        flow,
      });
      if (claimed) {
        const held = this.#slots.enqueue(claimed, token, since);
        if (this.#stopping)
          void this.#release(held, "released: the worker stopped before it started the job");
        else this.#slots.pump();
      }
      return { id, claimed: claimed !== undefined };
    } catch (error) {
      if (!(error instanceof QueueClosedError)) this.#claimer.uncertain(token);
      throw error;
    } finally {
      this.#handingOff--;
    }
  }

  /** Claims again now (a job was added, or a notification came). */
  wake(): void {
    this.#claimer.wake();
  }

  /**
   * `cancel()` from this process ended job `id`: if this worker holds it, its
   * signal aborts now with `reason` (other processes learn it at their next heartbeat).
   */
  cancelled(id: number, reason: Error): boolean {
    return this.#slots.abortHeld(id, reason);
  }

  /**
   * Stops claiming and winds down by `deadline` (Date.now() ms) as a whole:
   * claimed jobs not started are handed back at once (one statement per
   * {@link MAX_LIST}), running handlers get until `handlersUntil` to finish,
   * then their signal aborts and their jobs are handed back too (claimable
   * again at once); completions being written are awaited. With the database
   * away, the hand-backs are retried until the deadline and then left to their
   * leases. Timers are cleared; heartbeats and rescues in flight are awaited.
   */
  async stop(handlersUntil: number, deadline: number): Promise<void> {
    this.#stopping = true;
    this.wake();
    await until(this.#loop ?? Promise.resolve(), deadline);
    // Claimed but never started: back at once.
    await this.#releaseAll(
      this.#slots.takeWaiting(),
      "released: the worker stopped before it started the job",
      deadline,
    );
    while (this.#slots.size > 0 && Date.now() < handlersUntil) {
      await until(Promise.race(this.#slots.all().map((h) => h.done)), handlersUntil);
    }
    // Heartbeats kept the leases of running handlers alive until now; no more of them.
    this.#intervals.clear();
    const running = this.#slots.all().filter((h) => h.state === "running");
    for (const held of running) held.abort.abort(new Error("the queue is stopping"));
    await this.#releaseAll(
      running,
      "released: the worker stopped before the handler finished",
      deadline,
    );
    await until(
      Promise.allSettled([...this.#slots.all().map((h) => h.done), ...this.#intervals.inFlight]),
      deadline,
    );
  }

  /**
   * Hands held jobs back, claimable at once, fenced by their tokens, retried
   * until `deadline` (Date.now() ms); see {@link handBack}.
   */
  #releaseAll(list: readonly Held[], reason: string, deadline: number): Promise<void> {
    if (list.length === 0) return Promise.resolve();
    this.#slots.detach(list);
    const jobs = list.map((h) => ({ id: h.job.id, token: h.token }));
    return handBack(
      { ...this.#d, emitError: (e, w) => this.#emitError(e, w) },
      jobs,
      reason,
      deadline,
    );
  }

  /** Hands one held job back (a claim this worker will not run). */
  #release(held: Held, reason: string): Promise<void> {
    const leaseEnd = Date.now() + Math.max(MIN_RETRY_MS, this.#d.config.leaseMs);
    return this.#releaseAll([held], reason, leaseEnd);
  }

  /** Extends the leases of held jobs; aborts the handlers of jobs whose lease is gone. */
  #heartbeat(): Promise<void> {
    // A job cancel() ended is not kept alive: its lease is gone, and asking again costs a statement.
    const held = this.#slots
      .all()
      .filter((h) => h.state !== "released" && !abortedByCancel(h.abort));
    return extendHeldLeases(this.#d, held);
  }

  /** Once per interval in the whole cluster: expired leases become claimable again, or failed. */
  async #rescue(): Promise<void> {
    if ((await rescueExpiredLeases(this.#d)) > 0) this.wake();
  }

  /** Emits "error" (only when someone listens), the database's error redacted of statement text and values. */
  #emitError(error: unknown, during: string): void {
    const { events, logger, config } = this.#d;
    if (events.listenerCount("error") > 0)
      emitSafely(events, logger, "error", {
        error: redactError(error),
        during,
        jobType: config.jobType,
      });
  }
}

/** Waits for `promise`, or until `deadline` (Date.now() ms), whichever comes first. */
async function until(promise: Promise<unknown>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.then(
      () => undefined,
      () => undefined,
    ),
    new Promise((r) => {
      timer = setTimeout(r, Math.max(0, deadline - Date.now()));
    }),
  ]);
  clearTimeout(timer); // a pending timer would keep the process alive until the deadline
}

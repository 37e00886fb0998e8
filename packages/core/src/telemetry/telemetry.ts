import type { RunOutcome } from "../engine/run-handler.js";
import type { Job } from "../job.js";
import { JobStatus } from "../job-status.js";
import type { JobCount } from "../stats.js";
import { LocalMetrics } from "./local-metrics.js";
import { decodeCarrier, encodeCarrier, loadedOtelApi, loadOtelApi, type OtelApi } from "./otel.js";
import { metricStatusName, outcomeName } from "./status-names.js";

/**
 * The queue's `telemetry` option: the providers to use instead of the global
 * ones (`trace.setGlobalTracerProvider`, `metrics.setGlobalMeterProvider`, which
 * `NodeSDK.start()` calls). Typed structurally, so this package's types do not
 * need `@opentelemetry/api`: an OpenTelemetry `TracerProvider` / `MeterProvider` fits.
 */
export interface TelemetryOptions {
  /** Spans go to this provider's tracer. Default: the global tracer provider. */
  readonly tracerProvider?: { getTracer(name: string, version?: string): unknown } | undefined;
  /** Metrics go to this provider's meter. Default: the global meter provider. */
  readonly meterProvider?: { getMeter(name: string, version?: string): unknown } | undefined;
}

/** The instrumentation scope's name: the tracer's and the meter's. */
export const INSTRUMENTATION_NAME = "@persistent-queue/core";

declare const __PQ_VERSION__: string | undefined;
/** This package's version (set by the build; undefined when run from the sources). */
const VERSION = typeof __PQ_VERSION__ === "string" ? __PQ_VERSION__ : undefined;

/** `messaging.system`: not one of the semantic conventions' well-known values, so our own. */
export const MESSAGING_SYSTEM = "persistent_queue";

/** Least time between two reads of the job counts for the observable gauge. */
const COUNTS_MAX_AGE_MS = 5000;

type Tracer = import("@opentelemetry/api").Tracer;
type Span = import("@opentelemetry/api").Span;
type Counter = import("@opentelemetry/api").Counter;
type Histogram = import("@opentelemetry/api").Histogram;
type ObservableGauge = import("@opentelemetry/api").ObservableGauge;
type ObservableCallback = import("@opentelemetry/api").ObservableCallback;

interface Instruments {
  readonly processed: Counter;
  readonly failed: Counter;
  readonly duration: Histogram;
  readonly wait: Histogram;
  readonly jobs: ObservableGauge;
}

/** A claimed job as the process span needs it. */
export interface ClaimedRun {
  readonly job: Job;
  /** The row's `trace_context` (schema version 6); undefined or null: none. */
  readonly traceContext: string | null | undefined;
  /** When the job became due, epoch ms (the row's start_time / run_at, else its create_time). */
  readonly dueMs: number;
}

/**
 * One queue's traces and metrics. With `@opentelemetry/api` installed (and
 * `telemetry` not false): a PRODUCER span per enqueue call carrying its context
 * into the job's `trace_context`, a CONSUMER span per handler run (a child of
 * that context, and linked to it), counters and histograms per run, and an
 * observable gauge of the job counts. Without it, only the in-memory
 * {@link LocalMetrics} (for Prometheus) are kept.
 */
export class Telemetry {
  /** This process's counters for `prometheusMetrics({ queue })`. */
  readonly local = new LocalMetrics();
  readonly #options: TelemetryOptions | false;
  readonly #nameOf: (jobType: number) => string;
  #api: OtelApi | undefined;
  #tracerOnce: Tracer | undefined;
  #ready: Promise<void> | undefined;
  #instruments: Instruments | undefined;
  #observe: ObservableCallback | undefined;
  #counts: { at: number; rows: JobCount[] } | undefined;
  #reading: Promise<JobCount[]> | undefined;

  constructor(options: TelemetryOptions | false | undefined, nameOf: (jobType: number) => string) {
    this.#options = options ?? {};
    this.#nameOf = nameOf;
    if (this.#options !== false) void this.load();
  }

  /** Loads the API (once); resolves when spans can be made. Never rejects. */
  load(): Promise<void> {
    if (this.#options === false) return Promise.resolve();
    this.#ready ??= loadOtelApi().then((api) => {
      this.#api = api;
    });
    return this.#ready;
  }

  /** True when OpenTelemetry is in use. */
  get enabled(): boolean {
    return this.#api !== undefined;
  }

  /**
   * The tracer, got once: without a registered SDK the global provider made a new
   * proxy tracer per call (per job run). The global one's proxy follows a provider
   * registered later, as a tracer kept at module level does.
   */
  #tracer(api: OtelApi): Tracer {
    if (this.#tracerOnce) return this.#tracerOnce;
    const provider = this.#options !== false ? this.#options.tracerProvider : undefined;
    this.#tracerOnce = (provider ?? api.trace).getTracer(INSTRUMENTATION_NAME, VERSION) as Tracer;
    return this.#tracerOnce;
  }

  #destination(jobTypes: readonly number[]): string | undefined {
    const types = [...new Set(jobTypes)];
    return types.length === 1 ? this.#nameOf(types[0]!) : undefined;
  }

  #producerAttributes(jobTypes: readonly number[]) {
    const destination = this.#destination(jobTypes);
    const attributes: Record<string, string | number> = {
      "messaging.system": MESSAGING_SYSTEM,
      "messaging.operation.type": "send",
      "messaging.operation.name": "send",
    };
    if (destination !== undefined) {
      attributes["messaging.destination.name"] = destination;
      attributes["persistent_queue.job_type"] = jobTypes[0]!;
    }
    if (jobTypes.length > 1) attributes["messaging.batch.message_count"] = jobTypes.length;
    return { name: destination === undefined ? "send" : `send ${destination}`, attributes };
  }

  /**
   * Runs an enqueue of jobs of `jobTypes` inside a PRODUCER span `send <job type>`;
   * `insert` gets the trace context to store (undefined when no span context is
   * active, or without OpenTelemetry) and resolves the new ids.
   */
  async send(
    jobTypes: readonly number[],
    insert: (traceContext: string | undefined) => Promise<number[]>,
  ): Promise<number[]> {
    if (this.#options === false) return insert(undefined);
    await this.load();
    const api = this.#api;
    if (!api) return insert(undefined);
    const { name, attributes } = this.#producerAttributes(jobTypes);
    return this.#tracer(api).startActiveSpan(
      name,
      { kind: api.SpanKind.PRODUCER, attributes },
      async (span) => {
        try {
          const ids = await insert(injectContext(api));
          if (ids.length === 1) span.setAttribute("messaging.message.id", String(ids[0]));
          return ids;
        } catch (error) {
          failSpan(api, span, error);
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  /** {@link send} for `addSync()`: spans only once the API has loaded (it starts loading with the queue). */
  sendSync(
    jobTypes: readonly number[],
    insert: (traceContext: string | undefined) => number,
  ): number {
    const api = this.#options === false ? undefined : (this.#api ?? loadedOtelApi());
    if (!api) return insert(undefined);
    const { name, attributes } = this.#producerAttributes(jobTypes);
    return this.#tracer(api).startActiveSpan(
      name,
      { kind: api.SpanKind.PRODUCER, attributes },
      (span) => {
        try {
          const id = insert(injectContext(api));
          span.setAttribute("messaging.message.id", String(id));
          return id;
        } catch (error) {
          failSpan(api, span, error);
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  /**
   * Runs one attempt of a claimed job inside a CONSUMER span `process <job type>`
   * and records its metrics. The span's parent is the context stored at enqueue
   * (one trace from the request to the run), never the worker's ambient context;
   * it also links to it, as the messaging conventions ask of a process span.
   */
  async process(run: ClaimedRun, attempt: () => Promise<RunOutcome>): Promise<RunOutcome> {
    const started = performance.now();
    const api = this.#api;
    const waitSeconds = Math.max(0, Date.now() - run.dueMs) / 1000;
    let outcome: RunOutcome;
    if (!api) {
      outcome = await attempt();
    } else {
      const { job } = run;
      const parent = api.propagation.extract(api.ROOT_CONTEXT, decodeCarrier(run.traceContext));
      const link = api.trace.getSpanContext(parent);
      const attrs = jobAttributes(job.jobType, job.name);
      this.#instruments?.wait.record(waitSeconds, attrs);
      outcome = await this.#tracer(api).startActiveSpan(
        `process ${job.name}`,
        {
          kind: api.SpanKind.CONSUMER,
          // One literal, not a spread of attrs: spreading then adding five keys was
          // 2.5 µs per run, a twentieth of a no-op job's worker CPU.
          attributes: {
            "messaging.destination.name": job.name,
            "persistent_queue.job_type": job.jobType,
            "messaging.system": MESSAGING_SYSTEM,
            "messaging.operation.type": "process",
            "messaging.operation.name": "process",
            "messaging.message.id": String(job.id),
            "persistent_queue.job.attempts": job.attempts,
          },
          links: link ? [{ context: link }] : [],
        },
        parent,
        async (span: Span) => {
          try {
            const result = await attempt();
            span.setAttribute("persistent_queue.job.outcome", outcomeName(result.status));
            if ("error" in result) failSpan(api, span, result.error);
            return result;
          } finally {
            span.end();
          }
        },
      );
    }
    this.#record(run.job, outcome, (performance.now() - started) / 1000);
    return outcome;
  }

  #record(job: Job, outcome: RunOutcome, seconds: number): void {
    const outcomeText = outcomeName(outcome.status);
    this.local.record(job.jobType, outcomeText, seconds);
    const m = this.#instruments;
    if (!m) return;
    const attrs = {
      "messaging.destination.name": job.name,
      "persistent_queue.job_type": job.jobType,
      "persistent_queue.job.outcome": outcomeText,
    };
    m.processed.add(1, attrs);
    if (outcome.status === JobStatus.Failed || outcome.status === JobStatus.Retry)
      m.failed.add(1, attrs);
    m.duration.record(seconds, attrs);
  }

  /**
   * Creates the instruments (at start(): the global meter provider is read then,
   * as the API has no proxy for meters) and observes the job counts through
   * `readCounts`, at most every 5 s and only when a reader collects.
   */
  async startMetrics(readCounts: () => Promise<JobCount[]>): Promise<void> {
    await this.load();
    const api = this.#api;
    if (!api || this.#options === false || this.#instruments) return;
    const provider = this.#options.meterProvider ?? api.metrics;
    const meter = provider.getMeter(
      INSTRUMENTATION_NAME,
      VERSION,
    ) as import("@opentelemetry/api").Meter;
    const instruments: Instruments = {
      processed: meter.createCounter("persistent_queue.jobs.processed", {
        description: "Handler runs finished by this process, by job type and outcome.",
        unit: "{job}",
      }),
      failed: meter.createCounter("persistent_queue.jobs.failed", {
        description: "Handler runs that ended in an error (failed, or to be retried).",
        unit: "{job}",
      }),
      duration: meter.createHistogram("persistent_queue.job.duration", {
        description:
          "Time a handler run took: the handler (and the params' schema check), not the write of its outcome.",
        unit: "s",
      }),
      wait: meter.createHistogram("persistent_queue.job.wait", {
        description: "Time from when a job became due to when its run started.",
        unit: "s",
      }),
      jobs: meter.createObservableGauge("persistent_queue.jobs", {
        description: "Jobs in the table by job type and status.",
        unit: "{job}",
      }),
    };
    this.#observe = async (result) => {
      const rows = await this.#countsFresh(readCounts);
      for (const row of rows)
        result.observe(row.count, {
          ...jobAttributes(row.jobType, this.#nameOf(row.jobType)),
          "persistent_queue.job.status": metricStatusName(row.status),
        });
    };
    instruments.jobs.addCallback(this.#observe);
    this.#instruments = instruments;
  }

  /** Stops observing the job counts (at stop()). */
  stopMetrics(): void {
    if (this.#instruments && this.#observe) this.#instruments.jobs.removeCallback(this.#observe);
    this.#observe = undefined;
  }

  async #countsFresh(read: () => Promise<JobCount[]>): Promise<JobCount[]> {
    const cached = this.#counts;
    if (cached && Date.now() - cached.at < COUNTS_MAX_AGE_MS) return cached.rows;
    this.#reading ??= read()
      .then((rows) => {
        this.#counts = { at: Date.now(), rows };
        return rows;
      })
      .catch(() => cached?.rows ?? []) // the database away: the last counts, or none
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }
}

/** The attributes naming a job type on spans and metrics. */
function jobAttributes(jobType: number, name: string): Record<string, string | number> {
  return { "messaging.destination.name": name, "persistent_queue.job_type": jobType };
}

/** The active context as a `trace_context` value; undefined when nothing was injected. */
function injectContext(api: OtelApi): string | undefined {
  const carrier: Record<string, string> = {};
  api.propagation.inject(api.context.active(), carrier);
  return encodeCarrier(carrier);
}

/** Marks a span failed with `error` (anything thrown or returned). */
function failSpan(api: OtelApi, span: Span, error: unknown): void {
  const err =
    error instanceof Error ? error : new Error(typeof error === "string" ? error : String(error));
  span.recordException(err);
  span.setAttribute("error.type", err.name || "Error");
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: err.message });
}

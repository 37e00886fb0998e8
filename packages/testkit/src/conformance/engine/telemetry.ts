// OpenTelemetry and Prometheus on every adapter: the trace context travels through the job
// table's trace_context column (each dialect's insert, multi-row insert and claim), and the
// Prometheus text counts what the table holds.
import {
  context,
  metrics,
  propagation,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AggregationTemporality,
  type CollectionResult,
  MeterProvider,
  MetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { defineJob, JobStatus, prometheusMetrics } from "@persistent-queue/core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type AdapterUnderTest, q, SEED_INSERT, type TargetKind, x } from "../context.js";
import { useMigratedDatabase } from "../fixture.js";
import { makeQueue, waitFor } from "./helpers.js";

/** A reader the test collects from when it wants (no export interval). */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

interface GlobalOtel {
  readonly spans: InMemorySpanExporter;
  readonly reader: TestReader;
}

/**
 * The OpenTelemetry SDK registered globally, as an application does (context manager,
 * W3C propagator, tracer and meter providers), for one describe block:
 * {@link unregisterGlobalOtel} takes it away again, so later tests in the process run
 * without it and the next cell can register its own.
 */
function registerGlobalOtel(): GlobalOtel {
  const spans = new InMemorySpanExporter();
  const reader = new TestReader();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
  );
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  return { spans, reader };
}

function unregisterGlobalOtel(): void {
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
}

/** Job types of this cell: distinct per database, so that one cell's rows never look like another's. */
const BASE: Record<TargetKind, number> = { mariadb: 9100, postgres: 9200, sqlite: 9300 };

/** The data points of metric `name` in a collection whose attributes include `match`. */
function points(collected: CollectionResult, name: string, match: Record<string, unknown>) {
  return collected.resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .filter((m) => m.descriptor.name === name)
    .flatMap((m) => m.dataPoints as { attributes: Record<string, unknown>; value: unknown }[])
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
}

/** Parses Prometheus text: samples by `name{labels}`, and checks each family's HELP and TYPE come first. */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) (\w+) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === "TYPE") {
        expect(["gauge", "counter", "histogram"]).toContain(meta[3]);
        typed.add(meta[2]!);
      }
      continue;
    }
    const m = /^(\w+)\{((?:\w+="(?:[^"\\]|\\.)*",?)*)\} (\S+)$/.exec(line);
    expect(m, `a sample line: ${line}`).not.toBeNull();
    const family = m![1]!.replace(/_(bucket|sum|count)$/, "");
    expect(typed.has(m![1]!) || typed.has(family), `TYPE before ${line}`).toBe(true);
    samples.set(`${m![1]}{${m![2]}}`, Number(m![3]));
  }
  return samples;
}

/** OpenTelemetry spans and metrics, and the Prometheus text, on a real database. */
export function telemetryTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);
  let otel: GlobalOtel;
  beforeAll(() => {
    otel = registerGlobalOtel();
  });
  afterAll(unregisterGlobalOtel);

  it("a job's process span is a child of (and linked to) the request span that enqueued it, with messaging attributes; a throw is recorded; counters and histograms count the runs", async () => {
    const ok = BASE[kind] + 1;
    const bad = BASE[kind] + 2;
    const queue = fx.track(
      makeQueue(fx.db, [
        { jobType: ok, name: `otel-ok-${kind}`, handleJob: async () => JobStatus.Success },
        {
          jobType: bad,
          name: `otel-bad-${kind}`,
          needRetry: false,
          handleJob: async () => {
            throw new TypeError("card declined");
          },
        },
      ]),
    );
    const tracer = trace.getTracer("conformance");
    // Started inside a span: the runs must not become its children (the worker's ambient context).
    await tracer.startActiveSpan("boot", async (span) => {
      await queue.start();
      span.end();
    });
    let request: SpanContext | undefined;
    const ids = await tracer.startActiveSpan("POST /orders", async (span) => {
      request = span.spanContext();
      try {
        const one = await queue.add(ok, { n: 1 });
        const failing = await queue.add(bad, {});
        const many = await queue.addMany([
          { jobType: ok, params: { n: 2 } },
          { jobType: ok, params: { n: 3 } },
        ]);
        return [one, failing, ...many];
      } finally {
        span.end();
      }
    });
    // A row from plain SQL (another program): no trace_context, so its run starts a trace.
    const now = Math.floor(Date.now() / 1000);
    await x(fx.db, SEED_INSERT, ['{"n":4}', ok, 0, 0, now, now]);
    const [{ id: plainId }] = (await q(fx.db, "SELECT MAX(id) AS id FROM async_job_tab")) as [
      { id: unknown },
    ];
    const untraced = Number(plainId);
    for (const id of [...ids, untraced]) await queue.waitFor(id, { timeout: "10s" });

    const stored = await q(
      fx.db,
      "SELECT id, trace_context FROM async_job_tab WHERE id IN ({}, {}) ORDER BY id",
      [ids[0]!, untraced],
    );
    const carrier = JSON.parse(String(stored[0]!.trace_context)) as Record<string, string>;
    expect(Object.keys(carrier)).toEqual(["traceparent"]);
    expect(stored[1]!.trace_context).toBeNull();

    const finished = () => otel.spans.getFinishedSpans();
    const processOf = (id: number) =>
      finished().find(
        (s) => s.kind === SpanKind.CONSUMER && s.attributes["messaging.message.id"] === String(id),
      );
    await waitFor("the process spans", () => [...ids, untraced].every((id) => processOf(id)));
    const sends = finished().filter(
      (s) => s.kind === SpanKind.PRODUCER && s.spanContext().traceId === request!.traceId,
    );
    expect(sends.map((s) => s.name)).toEqual([
      `send otel-ok-${kind}`,
      `send otel-bad-${kind}`,
      `send otel-ok-${kind}`,
    ]);
    expect(sends[0]!.attributes).toMatchObject({
      "messaging.system": "persistent_queue",
      "messaging.operation.type": "send",
      "messaging.destination.name": `otel-ok-${kind}`,
      "messaging.message.id": String(ids[0]),
    });
    expect(sends[2]!.attributes["messaging.batch.message_count"]).toBe(2);
    // The stored context is the send span's: W3C traceparent 00-<trace id>-<span id>-01.
    expect(carrier.traceparent).toBe(`00-${request!.traceId}-${sends[0]!.spanContext().spanId}-01`);

    for (const [i, id] of ids.entries()) {
      const span = processOf(id)!;
      const send = sends[Math.min(i, 2)]!;
      expect(span.spanContext().traceId).toBe(request!.traceId);
      expect(span.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
      expect(span.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
    }
    const okSpan = processOf(ids[0]!)!;
    expect(okSpan.name).toBe(`process otel-ok-${kind}`);
    expect(okSpan.attributes).toMatchObject({
      "messaging.system": "persistent_queue",
      "messaging.operation.type": "process",
      "messaging.destination.name": `otel-ok-${kind}`,
      "persistent_queue.job_type": ok,
      "persistent_queue.job.outcome": "success",
    });
    expect(okSpan.status.code).not.toBe(SpanStatusCode.ERROR);
    const badSpan: ReadableSpan = processOf(ids[1]!)!;
    expect(badSpan.status).toMatchObject({ code: SpanStatusCode.ERROR, message: "card declined" });
    expect(badSpan.attributes["error.type"]).toBe("TypeError");
    expect(badSpan.events.find((e) => e.name === "exception")?.attributes).toMatchObject({
      "exception.type": "TypeError",
      "exception.message": "card declined",
    });
    // Enqueued without a trace context: a root span of its own, not a child of "boot".
    const loose = processOf(untraced)!;
    expect(loose.parentSpanContext).toBeUndefined();
    expect(loose.links).toEqual([]);

    const collected = await otel.reader.collect();
    const sum = (name: string, match: Record<string, unknown>) =>
      points(collected, name, match).reduce((n, p) => n + Number(p.value), 0);
    expect(sum("persistent_queue.jobs.processed", { "persistent_queue.job_type": ok })).toBe(4);
    expect(sum("persistent_queue.jobs.failed", { "persistent_queue.job_type": ok })).toBe(0);
    expect(sum("persistent_queue.jobs.failed", { "persistent_queue.job_type": bad })).toBe(1);
    const histogramCount = (name: string) =>
      points(collected, name, { "persistent_queue.job_type": ok }).reduce(
        (n, p) => n + (p.value as { count: number }).count,
        0,
      );
    expect(histogramCount("persistent_queue.job.duration")).toBe(4);
    expect(histogramCount("persistent_queue.job.wait")).toBe(4);
    const gauge = points(collected, "persistent_queue.jobs", {
      "persistent_queue.job_type": ok,
      "persistent_queue.job.status": "success",
    });
    expect(gauge.map((p) => p.value)).toContain(4);
  });

  it("prometheusMetrics() counts jobs by type and status, the oldest due job's age and paused types; queue.prometheusMetrics() adds this process's runs; telemetry: false writes no trace context", async () => {
    const run = BASE[kind] + 11;
    const idle = BASE[kind] + 12;
    const queue = fx.track(
      makeQueue(
        fx.db,
        [
          { jobType: run, name: "runs", handleJob: async () => JobStatus.Success },
          defineJob<{ a: number }>()({ jobType: idle, name: "idle" }),
        ],
        { telemetry: false },
      ),
    );
    await queue.start();
    const done = await trace.getTracer("conformance").startActiveSpan("request", async (span) => {
      try {
        return await queue.addMany([
          { jobType: run, params: {} },
          { jobType: run, params: {} },
        ]);
      } finally {
        span.end();
      }
    });
    for (const id of done) await queue.waitFor(id, { timeout: "10s" });
    const [row] = await q(fx.db, "SELECT trace_context FROM async_job_tab WHERE id = {}", [
      done[0]!,
    ]);
    expect(row!.trace_context).toBeNull();
    await queue.addMany([
      { jobType: idle, params: { a: 1 } },
      { jobType: idle, params: { a: 2 } },
      { jobType: idle, params: { a: 3 }, delay: "1h" },
    ]);
    await queue.pause(idle);

    const table = parsePrometheus(await prometheusMetrics(fx.db));
    expect(table.get(`persistent_queue_jobs{job_type="${run}",status="success"}`)).toBe(2);
    expect(table.get(`persistent_queue_jobs{job_type="${run}",status="init"}`)).toBe(0);
    expect(table.get(`persistent_queue_jobs{job_type="${idle}",status="init"}`)).toBe(3);
    expect(table.get(`persistent_queue_jobs{job_type="${idle}",status="failed"}`)).toBe(0);
    const age = table.get(`persistent_queue_oldest_waiting_seconds{job_type="${idle}"}`)!;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(120);
    expect(table.get(`persistent_queue_oldest_waiting_seconds{job_type="${run}"}`)).toBe(0);
    expect(table.get(`persistent_queue_job_types_paused{job_type="${idle}"}`)).toBe(1);
    expect(table.get(`persistent_queue_job_types_paused{job_type="${run}"}`)).toBe(0);
    expect(
      [...table.keys()].some((k) => k.startsWith("persistent_queue_jobs_processed_total")),
    ).toBe(false);

    const own = parsePrometheus(await queue.prometheusMetrics());
    expect(own.get(`persistent_queue_jobs{job_type="${idle}",status="init"}`)).toBe(3);
    expect(
      own.get(`persistent_queue_jobs_processed_total{job_type="${run}",outcome="success"}`),
    ).toBe(2);
    expect(own.get(`persistent_queue_jobs_failed_total{job_type="${run}",outcome="failed"}`)).toBe(
      0,
    );
    expect(own.get(`persistent_queue_job_duration_seconds_count{job_type="${run}"}`)).toBe(2);
    expect(
      own.get(`persistent_queue_job_duration_seconds_bucket{job_type="${run}",le="+Inf"}`),
    ).toBe(2);
    expect(
      own.get(`persistent_queue_job_duration_seconds_bucket{job_type="${run}",le="300"}`),
    ).toBe(2);
  });
}

import { describe, expect, it } from "vitest";
import type { Job } from "../job.js";
import { JobStatus } from "../job-status.js";
import { DURATION_BUCKETS, LocalMetrics } from "./local-metrics.js";
import { decodeCarrier, encodeCarrier, MAX_TRACE_CONTEXT_LENGTH } from "./otel.js";
import { escapeLabel } from "./prometheus.js";
import { Telemetry } from "./telemetry.js";

const job = (over: Partial<Job> = {}): Job => ({
  id: 7,
  jobType: 3,
  name: "send-mail",
  params: null,
  rawParams: "",
  attempts: 1,
  status: JobStatus.Running,
  startTime: 0,
  createTime: 0,
  lastError: null,
  group: null,
  ...over,
});

describe("telemetry: false", () => {
  it("stores no trace context, makes no span, and still counts runs for Prometheus", async () => {
    const telemetry = new Telemetry(false, String);
    const seen: (string | undefined)[] = [];
    const ids = await telemetry.send([3], async (tc) => {
      seen.push(tc);
      return [1];
    });
    expect(ids).toEqual([1]);
    const id = telemetry.sendSync([3], (tc) => {
      seen.push(tc);
      return 2;
    });
    expect(id).toBe(2);
    expect(seen).toEqual([undefined, undefined]);
    await telemetry.startMetrics(async () => {
      throw new Error("never read: no meter");
    });
    expect(telemetry.enabled).toBe(false);
    const outcome = await telemetry.process(
      { job: job(), traceContext: '{"traceparent":"00-x"}', dueMs: Date.now() },
      async () => ({ status: JobStatus.Retry, error: new Error("later") }),
    );
    expect(outcome.status).toBe(JobStatus.Retry);
    expect(telemetry.local.processed.get(3)).toEqual(new Map([["retry", 1]]));
    expect(telemetry.local.durations.get(3)?.count).toBe(1);
  });
});

describe("trace_context carrier", () => {
  it("is compact JSON with traceparent first, drops keys that do not fit, and reads back only string values", () => {
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    expect(encodeCarrier({})).toBeUndefined();
    expect(encodeCarrier({ tracestate: "a=1", traceparent })).toBe(
      `{"traceparent":"${traceparent}","tracestate":"a=1"}`,
    );
    const long = encodeCarrier({ traceparent, tracestate: "x".repeat(400) });
    expect(long).toBe(`{"traceparent":"${traceparent}"}`);
    expect(encodeCarrier({ traceparent: "y".repeat(MAX_TRACE_CONTEXT_LENGTH) })).toBeUndefined();
    expect(decodeCarrier(long)).toEqual({ traceparent });
    for (const bad of [null, undefined, "", "not json", "[1]", "3"])
      expect(decodeCarrier(bad)).toEqual({});
    expect(decodeCarrier('{"traceparent":"t","n":1}')).toEqual({ traceparent: "t" });
  });
});

describe("Prometheus helpers", () => {
  it("escapes backslash, double quote and line feed in label values", () => {
    expect(escapeLabel('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });

  it("buckets durations by their upper bound, over the last into +Inf only", () => {
    const m = new LocalMetrics();
    m.record(1, "success", 0.005);
    m.record(1, "success", 0.006);
    m.record(1, "failed", 1000);
    const h = m.durations.get(1)!;
    expect(h.buckets[0]).toBe(1);
    expect(h.buckets[1]).toBe(1);
    expect(h.buckets.reduce((a, b) => a + b, 0)).toBe(2);
    expect(h.count).toBe(3);
    expect(h.buckets).toHaveLength(DURATION_BUCKETS.length);
    expect(m.processed.get(1)).toEqual(
      new Map([
        ["success", 2],
        ["failed", 1],
      ]),
    );
  });
});

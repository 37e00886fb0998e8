import { describe } from "vitest";
import { type AdapterUnderTest, cellName } from "../context.js";
import { actionTests } from "./actions.js";
import { concurrencyTests } from "./concurrency.js";
import { definitionTests } from "./definitions.js";
import { durabilityTests } from "./durability.js";
import { featureTests } from "./features.js";
import { flowControlProcessTests, flowControlTests } from "./flow-control.js";
import { goLibraryTests } from "./go-library.js";
import { hardeningTests, statementLimitTests } from "./hardening.js";
import { killTests } from "./kill.js";
import { overviewTests } from "./overview.js";
import { priorityTests } from "./priorities.js";
import { resultsTests } from "./results.js";
import { retentionTests } from "./retention.js";
import { scheduleTests } from "./schedules.js";
import { semanticsTests } from "./semantics.js";
import { shedLockTests } from "./shed-lock.js";
import { telemetryTests } from "./telemetry.js";
import { uniqueKeyTests } from "./unique-keys.js";

/**
 * The engine part of the conformance suite: the queue, its leases and
 * ShedLock running on the adapter, on every database it supports.
 */
export function describeEngineConformance(adapter: AdapterUnderTest): void {
  for (const kind of adapter.kinds) {
    describe(`${cellName(adapter, kind)}: engine conformance`, () => {
      describe("status semantics", () => semanticsTests(adapter, kind));
      describe("durability and enqueue", () => durabilityTests(adapter, kind));
      describe("competing consumers and leases", () => concurrencyTests(adapter, kind));
      describe("ShedLock", () => shedLockTests(adapter, kind));
      describe("firstPullDay, schemas, events, wake-ups", () => featureTests(adapter, kind));
      describe("job definitions and names", () => definitionTests(adapter, kind));
      describe("priorities and the due-ordered claim", () => priorityTests(adapter, kind));
      describe("worker killed", () => killTests(adapter, kind));
      describe("results, progress and waitFor", () => resultsTests(adapter, kind));
      describe("job actions and listJobs", () => actionTests(adapter, kind));
      describe("lifecycle, outages and bookkeeping", () => hardeningTests(adapter, kind));
      describe("a Go service on the same table", () => goLibraryTests(adapter, kind));
      describe("unique keys", () => uniqueKeyTests(adapter, kind));
      describe("retention and prune", () => retentionTests(adapter, kind));
      describe("cron schedules", () => scheduleTests(adapter, kind));
      describe("flow control", () => flowControlTests(adapter, kind));
      describe("OpenTelemetry and Prometheus", () => telemetryTests(adapter, kind));
      describe("finished-job counters", () => overviewTests(adapter, kind));
    });
  }
}

/**
 * Heavy engine checks (statement parameter limits) that the raw-driver
 * packages run once per database.
 */
export function describeEngineScale(adapter: AdapterUnderTest): void {
  for (const kind of adapter.kinds) {
    describe(`${adapter.adapter} on ${kind}: statement limits`, () =>
      statementLimitTests(adapter, kind));
    describe(`${adapter.adapter} on ${kind}: flow control across processes`, () =>
      flowControlProcessTests(adapter, kind));
  }
}
